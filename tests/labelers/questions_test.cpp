// Questions for labelers: the rejection-sampling rule on constructed token sequences (a truncate
// token before truncate_after is ignored, the first one at or after it counts, none means a redraw,
// gave_up after max_attempts), redraws of only the failed rows, the policy version on the tiny GPT-2,
// and the question files.
#include "rlhf/labelers/questions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <map>

#include "rlhf/model/checkpoint.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr int kPad = 99;
constexpr int kDot = 9;

TEST(TruncationIndex, FirstTruncateTokenAtOrAfterTheMinimumIndex) {
  EXPECT_EQ(truncation_index({9, 1, 2, 3, 9, 4}, kDot, 3), 4);  // the 9 at index 0 is too early
  EXPECT_EQ(truncation_index({1, 2, 3, 9, 9, 4}, kDot, 3), 3);  // exactly at truncate_after counts
  EXPECT_EQ(truncation_index({1, 2, 3, 4, 5, 9}, kDot, 3), 5);  // the last index counts
  EXPECT_EQ(truncation_index({1, 9, 9, 4, 5, 6}, kDot, 3), -1);
  EXPECT_EQ(truncation_index({1, 2, 3}, kDot, 5), -1);
  EXPECT_EQ(truncation_index({9, 9}, -1, 0), -1);  // no truncate token: the rule is off
}

// A draw that answers from a script: each context is one token q (the query id), and every row with
// context q takes the next response of script[q]. It records how many rows each call drew.
struct ScriptedDraw {
  std::map<std::int64_t, std::deque<std::vector<std::int64_t>>> script;
  std::vector<std::int64_t> calls;

  at::Tensor operator()(const at::Tensor& context, const at::Tensor& mask) {
    calls.push_back(context.size(0));
    std::vector<at::Tensor> rows;
    for (std::int64_t r = 0; r < context.size(0); ++r) {
      EXPECT_TRUE(mask[r][0].item<bool>());
      auto& queue = script.at(context[r][0].item<std::int64_t>());
      if (queue.empty()) throw std::runtime_error("script exhausted");
      rows.push_back(at::tensor(queue.front(), at::kLong));
      queue.pop_front();
    }
    return at::stack(rows);
  }
};

QuestionOptions rule(int max_attempts) {
  QuestionOptions o;
  o.num_samples = 2;
  o.response_length = 6;
  o.truncate_token = kDot;
  o.truncate_after = 3;
  o.max_attempts = max_attempts;
  return o;
}

TEST(SampleQuestions, RedrawsFailedRowsUntilTheRuleHoldsThenTruncates) {
  ScriptedDraw draw;
  // Query 0: sample 0 holds a 9 at index 4 (the one at 0 is ignored); sample 1 has none, then one at 3.
  draw.script[0] = {{9, 1, 2, 3, 9, 4}, {1, 2, 3, 4, 5, 6}, {1, 2, 3, 9, 9, 5}};
  // Query 1: neither sample ever has a 9 at index >= 3. After 3 draws the last draw is kept: sample 0
  // cut after its last 9 (index 2), sample 1 whole.
  draw.script[1] = {{1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2}, {3, 9, 3, 3, 3, 3},
                    {4, 4, 4, 4, 4, 4}, {9, 1, 9, 2, 3, 4}, {1, 2, 3, 4, 5, 6}};
  QuestionStats stats;
  const auto items = sample_questions(std::ref(draw), {{0}, {1}}, {{10, kPad}, {11, kPad}}, rule(3), kPad, &stats);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].query, (std::vector<int>{10, kPad}));
  EXPECT_EQ(items[0].best, -1);
  EXPECT_EQ(items[0].samples[0], (std::vector<int>{9, 1, 2, 3, 9, kPad}));
  EXPECT_EQ(items[0].samples[1], (std::vector<int>{1, 2, 3, 9, kPad, kPad}));
  EXPECT_EQ(items[1].samples[0], (std::vector<int>{9, 1, 9, kPad, kPad, kPad}));
  EXPECT_EQ(items[1].samples[1], (std::vector<int>{1, 2, 3, 4, 5, 6}));
  // Only failed rows are drawn again: 4 rows, then 3 (query 0 sample 1, query 1's two), then 2.
  EXPECT_EQ(draw.calls, (std::vector<std::int64_t>{4, 3, 2}));
  EXPECT_EQ(stats.questions, 2u);
  EXPECT_EQ(stats.samples, 4u);
  EXPECT_EQ(stats.draws, 9u);
  EXPECT_EQ(stats.gave_up, 2u);
}

TEST(SampleQuestions, BatchSizeOneGivesTheSameRowsAndNoRuleMeansOneDraw) {
  ScriptedDraw draw;
  draw.script[5] = {{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 9, 6}, {9, 9, 9, 9, 9, 9}};
  QuestionOptions o = rule(10);
  o.batch_size = 1;
  QuestionStats stats;
  auto items = sample_questions(std::ref(draw), {{5}}, {{5}}, o, kPad, &stats);
  EXPECT_EQ(items[0].samples[0], (std::vector<int>{1, 2, 3, 4, 9, kPad}));
  EXPECT_EQ(items[0].samples[1], (std::vector<int>{9, 9, 9, 9, kPad, kPad}));
  EXPECT_EQ(draw.calls, (std::vector<std::int64_t>{1, 1, 1}));
  EXPECT_EQ(stats.draws, 3u);

  draw.calls.clear();
  draw.script[5] = {{1, 2, 3, 4, 5, 6}, {1, 2, 3, 9, 9, 9}};
  o.truncate_token = -1;  // no rejection and no truncation
  items = sample_questions(std::ref(draw), {{5}}, {{5}}, o, kPad, &stats);
  EXPECT_EQ(items[0].samples[1], (std::vector<int>{1, 2, 3, 9, 9, 9}));
  EXPECT_EQ(stats.draws, 2u);
  EXPECT_EQ(stats.gave_up, 0u);
}

TEST(SampleQuestions, BadOptionsAndShapesAreErrors) {
  ScriptedDraw draw;
  draw.script[0] = {{1, 2, 3}, {1, 2, 3}};
  QuestionOptions o = rule(2);
  EXPECT_THAT([&] { sample_questions(std::ref(draw), {{0}}, {{0}}, o, kPad); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected [2, 6]")));
  o.truncate_after = 6;
  EXPECT_THAT([&] { sample_questions(std::ref(draw), {{0}}, {{0}}, o, kPad); },
              ::testing::ThrowsMessage<Error>(HasSubstr("truncate_after")));
}

// The real sampler on the tiny GPT-2 (random weights): token 54 is about 2% of its samples, so it
// serves as the truncate token. Every sample obeys the rule, and the seed fixes the result.
TEST(SampleQuestions, PolicySamplesObeyTheRuleAndFollowTheSeed) {
  model::Gpt2 policy = model::load_gpt2(kTiny);
  policy->eval();
  QuestionOptions o;
  o.num_samples = 4;
  o.response_length = 10;
  o.truncate_token = 54;
  o.truncate_after = 4;
  o.max_attempts = 200;
  o.batch_size = 5;
  const std::vector<std::vector<int>> contexts = {{299, 273, 265, 50259}, {40, 41, 42, 43}, {300, 301, 50259, 50259}};
  const std::vector<std::vector<int>> raw = {{1}, {2}, {3}};
  QuestionStats stats;
  const auto items = sample_questions(*policy, contexts, raw, o, 50259, /*seed=*/3, &stats);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(stats.samples, 12u);
  EXPECT_GT(stats.draws, stats.samples);  // some were redrawn (about 1 draw in 9 passes)
  for (const auto& item : items) {
    for (const auto& s : item.samples) {
      ASSERT_EQ(s.size(), 10u);
      const int cut = truncation_index(s, 54, 4);
      if (cut < 0) continue;  // gave up (counted)
      for (std::size_t t = cut + 1; t < s.size(); ++t) EXPECT_EQ(s[t], 50259);
      for (int t = 0; t < cut; ++t) EXPECT_NE(s[t], 50259);
    }
  }
  EXPECT_LE(stats.gave_up, 1u);
  const auto again = sample_questions(*policy, contexts, raw, o, 50259, 3);
  const auto other = sample_questions(*policy, contexts, raw, o, 50259, 4);
  bool same = true, differs = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    same = same && items[i].samples == again[i].samples;
    differs = differs || items[i].samples != other[i].samples;
  }
  EXPECT_TRUE(same);
  EXPECT_TRUE(differs);
}

class QuestionFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_questions_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

TEST_F(QuestionFiles, OpenAiSchemaWithAndWithoutBestAndATextRendering) {
  const auto tok = tokenizer::load_tokenizer(kTiny);
  std::vector<data::Comparison> items = {
      {tok->encode("The cat"), {tok->encode(" sat."), tok->encode(" ran\nhome.")}, -1},
      {tok->encode("A dog"), {tok->encode(" barked."), tok->encode(" slept.")}, -1},
  };
  items[0].query.push_back(50259);
  items[0].samples[0].push_back(50259);
  const fs::path questions = dir / "questions.json";
  write_questions(questions, items, /*with_best=*/false);
  const std::string text = read_text_file(questions);
  EXPECT_EQ(text.find("best"), std::string::npos);
  EXPECT_EQ(text.front(), '[');
  const data::LabelSet read = data::read_questions(questions, *tok, data::LabelOptions{});
  ASSERT_EQ(read.items.size(), 2u);
  EXPECT_EQ(read.items[0].query, items[0].query);
  EXPECT_EQ(read.items[0].samples, items[0].samples);
  EXPECT_EQ(read.items[1].best, -1);
  EXPECT_THAT([&] { data::read_labels(questions, *tok, data::LabelOptions{}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("record 0: missing field \"best\"")));

  EXPECT_THROW(write_questions(dir / "labels.json", items, /*with_best=*/true), Error);  // not labeled yet
  items[0].best = 1;
  items[1].best = 0;
  write_questions(dir / "labels.json", items, /*with_best=*/true);
  const data::LabelSet labels = data::read_labels(dir / "labels.json", *tok, data::LabelOptions{});
  EXPECT_EQ(labels.items[0].best, 1);
  EXPECT_EQ(labels.items[1].best, 0);
  EXPECT_EQ(data::read_questions(dir / "labels.json", *tok, data::LabelOptions{}).items[0].best, 1);

  write_questions_text(text_rendering_path(dir / "labels.json"), items, *tok, 50259);
  EXPECT_EQ(read_text_file(dir / "labels.txt"),
            "=== question 0 ===\nquery: \"The cat\"\n  0: \" sat.\"\n* 1: \" ran\\nhome.\"\n\n"
            "=== question 1 ===\nquery: \"A dog\"\n* 0: \" barked.\"\n  1: \" slept.\"\n\n");
  EXPECT_EQ(text_rendering_path("a/q.txt"), fs::path("a/q.txt.txt"));
}

}  // namespace
}  // namespace rlhf::labelers
