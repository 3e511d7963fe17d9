// Mock labelers: choose_best (argmax, ties, noise 0 and 1, determinism, coupling across noise
// levels), label_comparisons with the token-count labeler, the lexicon labeler as a PPO reward on
// the tiny tokenizer (through ppo::make_reward_function), and the options' checks.
#include "rlhf/labelers/labeler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "rlhf/model/batching.h"
#include "rlhf/util/error.h"
#include "torch_test_util.h"

namespace rlhf::labelers {
namespace {

namespace fs = std::filesystem;
using testing::float_matrix;
using ::testing::HasSubstr;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
const fs::path kShipped = fs::path(RLHF_TEST_DATA).parent_path().parent_path() / "configs" / "sentiment-lexicon.json";
constexpr int kPad = 50259;

TEST(ChooseBest, ArgmaxWithTiesBrokenUniformly) {
  const at::Tensor scores = float_matrix({{1, 3, 2, 0}, {-1, -2, -0.5f, -3}});
  EXPECT_EQ(choose_best(scores, 0.0, 1), (std::vector<int>{1, 2}));
  // Rows tied at 5 on samples 0, 1 and 3: each of them about a third of the time, never sample 2.
  const int rows = 3000;
  const std::vector<int> picks = choose_best(float_matrix({{5, 5, 1, 5}}).repeat({rows, 1}), 0.0, 7);
  EXPECT_EQ(std::count(picks.begin(), picks.end(), 2), 0);
  for (int k : {0, 1, 3}) {
    // Binomial(3000, 1/3): standard deviation 0.0086, so +- 0.04 is over 4 sigma.
    EXPECT_NEAR(std::count(picks.begin(), picks.end(), k) / double(rows), 1.0 / 3, 0.04) << k;
  }
}

TEST(ChooseBest, NoiseOneIsUniformAndNoiseZeroNeverRandom) {
  const int rows = 4000;
  const at::Tensor scores = at::arange(4, at::kFloat).repeat({rows, 1});  // argmax = 3 everywhere
  const std::vector<int> clean = choose_best(scores, 0.0, 5);
  EXPECT_EQ(std::count(clean.begin(), clean.end(), 3), rows);
  const std::vector<int> random = choose_best(scores, 1.0, 5);
  for (int k = 0; k < 4; ++k) {
    // Binomial(4000, 1/4): standard deviation 27, so 0.25 +- 0.03 is over 4 sigma.
    EXPECT_NEAR(std::count(random.begin(), random.end(), k) / double(rows), 0.25, 0.03) << k;
  }
  // noise 0.4: a row is wrong when random and not 3, probability 0.4 * 3/4 = 0.3.
  const std::vector<int> noisy = choose_best(scores, 0.4, 5);
  EXPECT_NEAR(std::count_if(noisy.begin(), noisy.end(), [](int b) { return b != 3; }) / double(rows), 0.3, 0.03);
}

TEST(ChooseBest, DeterministicAndCoupledAcrossNoiseLevels) {
  const at::Tensor scores = at::randn({500, 4}, at::TensorOptions().dtype(at::kFloat));
  const std::vector<int> clean = choose_best(scores, 0.0, 9);
  const std::vector<int> low = choose_best(scores, 0.3, 9), high = choose_best(scores, 0.6, 9);
  const std::vector<int> all = choose_best(scores, 1.0, 9);
  EXPECT_EQ(low, choose_best(scores, 0.3, 9));
  EXPECT_NE(low, choose_best(scores, 0.3, 10));
  for (std::size_t i = 0; i < low.size(); ++i) {
    // Each row is either its argmax or its one random answer, and random at 0.3 implies random at 0.6.
    EXPECT_TRUE(low[i] == clean[i] || low[i] == all[i]);
    if (low[i] != clean[i]) {
      EXPECT_EQ(high[i], all[i]) << i;
    }
  }
}

TEST(ChooseBest, NanScoreIsAnError) {
  const at::Tensor scores = float_matrix({{1, 2}, {std::nanf(""), 0}});
  try {
    choose_best(scores, 0.0, 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("item 1, sample 0 is NaN"));
  }
  EXPECT_THROW(choose_best(float_matrix({{1, 2}}), 1.5, 1), Error);
}

TEST(LabelComparisons, TokenCountLabelerGivesTheKnownBest) {
  // Token 7 appears 0/2/1 times, 3/0/3 times (a tie of 0 and 2) and 1/1/2 times; pads never count.
  std::vector<data::Comparison> items = {
      {{1, 2, kPad}, {{1, 2, kPad}, {7, 7, 3}, {7, kPad, kPad}}, -1},
      {{4}, {{7, 7, 7}, {1, 1}, {7, 7, 7, kPad}}, -1},
      {{}, {{7}, {5, 7}, {7, 7}}, -1},
  };
  ppo::TokenCountReward labeler(7);
  const at::Tensor scores = label_comparisons(items, labeler, 0.0, 1, kPad);
  EXPECT_TRUE(scores.equal(float_matrix({{0, 2, 1}, {3, 0, 3}, {1, 1, 2}})));
  EXPECT_EQ(items[0].best, 1);
  EXPECT_TRUE(items[1].best == 0 || items[1].best == 2) << items[1].best;
  EXPECT_EQ(items[2].best, 2);
  items[2].samples.pop_back();
  EXPECT_THROW(label_comparisons(items, labeler, 0.0, 1, kPad), Error);  // unequal N
}

TEST(LexiconLabeler, ScoresTheDecodedResponseOnlyAsAPpoReward) {
  std::shared_ptr<const tokenizer::Tokenizer> tok = tokenizer::load_tokenizer(kTiny);
  ppo::RewardOptions options;
  options.kind = "lexicon";
  options.lexicon = kShipped.string();
  auto reward = ppo::make_reward_function(options, core::Runtime{}, kPad, tok);
  const auto row = [&](const std::string& text) { return tok->encode(text); };
  // The query says "terrible"; only the responses count: 3 + 2 = 5, 0, and "not good" = -2.
  std::vector<std::vector<int>> queries = {row("A terrible"), row("A terrible"), row("It was")};
  std::vector<std::vector<int>> responses = {row(" wonderful, happy day."), row(" table."), row(" not good.")};
  const at::Tensor q = model::pad_right(queries, kPad).ids, r = model::pad_right(responses, kPad).ids;
  const at::Tensor scores = reward->score(q, r);
  EXPECT_EQ(scores.scalar_type(), at::kFloat);
  EXPECT_TRUE(scores.equal(at::tensor({5.0f, 0.0f, -2.0f})));
  EXPECT_THAT(reward->name(), HasSubstr("lexicon"));
}

TEST(LexiconLabeler, OptionsAreChecked) {
  LabelerOptions o;
  o.kind = "lexicon";
  o.lexicon = kShipped.string();
  try {
    make_labeler_reward(o, core::Runtime{}, kPad, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("tokenizer"));
  }
  o.kind = "reward_model";
  EXPECT_THROW(o.check(), Error);
  o.kind = "token_count";
  EXPECT_THROW(o.check(), Error);
  o.token = 3;
  EXPECT_NO_THROW(o.check());
  EXPECT_EQ(make_labeler_reward(o, core::Runtime{}, kPad, nullptr)->name(), "token_count(3)");
}

}  // namespace
}  // namespace rlhf::labelers
