// The accuracy ceiling of mock labels (data/ceiling.h): labels with known ties, hand-computed, with and
// without noise; a perfect scorer (the labeler itself as the reward) reaches it in expectation; the
// labeler's scores survive the label file and the train/validation split.
#include "rlhf/data/ceiling.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "rlhf/core/torch_compat.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/labelers/questions.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
constexpr int kPad = 50259;
constexpr int kCounted = 7;  // the token the token-count labeler counts

// A sample holding `count` of the counted token (and a pad, which never counts).
std::vector<int> sample_with(int count) {
  std::vector<int> s(static_cast<std::size_t>(count), kCounted);
  s.push_back(3);
  s.push_back(kPad);
  return s;
}

// Four questions whose token counts are 1 2 3 0 (one best), 2 2 0 1 (two tied), 0 0 0 0 (four tied)
// and 0 5 5 5 (three tied).
std::vector<data::Comparison> known_ties() {
  const std::vector<std::vector<int>> counts = {{1, 2, 3, 0}, {2, 2, 0, 1}, {0, 0, 0, 0}, {0, 5, 5, 5}};
  std::vector<data::Comparison> items;
  for (const auto& row : counts) {
    data::Comparison c;
    c.query = {1, 2};
    for (int n : row) c.samples.push_back(sample_with(n));
    c.best = -1;
    items.push_back(c);
  }
  return items;
}

TEST(AccuracyCeiling, KnownTiesByHand) {
  std::vector<data::Comparison> items = known_ties();
  ppo::TokenCountReward labeler(kCounted);
  label_comparisons(items, labeler, 0.0, 1, kPad);
  ASSERT_EQ(items[1].labeler_scores, (std::vector<double>{2, 2, 0, 1}));
  const data::AccuracyCeiling c = data::accuracy_ceiling(items);
  // (1 + 1/2 + 1/4 + 1/3) / 4 = (25/12) / 4 = 25/48.
  ASSERT_TRUE(c.ceiling.has_value());
  EXPECT_NEAR(*c.ceiling, 25.0 / 48.0, 1e-12);
  EXPECT_EQ(c.questions, 4u);
  EXPECT_EQ(c.tied, 3u);
  EXPECT_NEAR(*c.tied_share(), 0.75, 1e-12);
  EXPECT_NEAR(c.chance, 0.25, 1e-12);
  // Gain share of an accuracy halfway between chance and the ceiling.
  EXPECT_NEAR(*c.gain_share(0.25 + 0.5 * (25.0 / 48.0 - 0.25)), 0.5, 1e-12);
}

TEST(AccuracyCeiling, NoiseIsIncluded) {
  std::vector<data::Comparison> items = known_ties();
  ppo::TokenCountReward labeler(kCounted);
  label_comparisons(items, labeler, 0.2, 1, kPad);
  for (const auto& item : items) EXPECT_EQ(item.labeler_noise, 0.2);
  // Each question: 0.8 / k + 0.2 / 4, so the mean is 0.8 * 25/48 + 0.05 = 5/12 + 1/20 = 7/15.
  EXPECT_NEAR(*data::accuracy_ceiling(items).ceiling, 7.0 / 15.0, 1e-12);
  // Noise 1: every answer is random, the ceiling is chance and there is no gain to achieve.
  label_comparisons(items, labeler, 1.0, 1, kPad);
  const data::AccuracyCeiling random = data::accuracy_ceiling(items);
  EXPECT_NEAR(*random.ceiling, 0.25, 1e-12);
  EXPECT_FALSE(random.gain_share(0.3).has_value());
}

TEST(AccuracyCeiling, UnknownWithoutTheLabelersScores) {
  std::vector<data::Comparison> items = known_ties();
  ppo::TokenCountReward labeler(kCounted);
  label_comparisons(items, labeler, 0.0, 1, kPad);
  items[2].labeler_scores.clear();  // one answer from a person
  const data::AccuracyCeiling c = data::accuracy_ceiling(items);
  EXPECT_FALSE(c.ceiling.has_value());
  EXPECT_FALSE(c.tied_share().has_value());
  EXPECT_FALSE(c.gain_share(0.5).has_value());
  EXPECT_NEAR(c.chance, 0.25, 1e-12);
  EXPECT_FALSE(data::accuracy_ceiling({}).ceiling.has_value());
}

TEST(AccuracyCeiling, PerfectScorerReachesItInExpectation) {
  // 20,000 questions with scores in {0, 1, 2} (ties everywhere), answered with noise 0.1. The perfect
  // reward model is the labeler's own score: its argmax (the first tied index, as at::argmax) is right
  // with probability 0.9 / k + 0.1 / 4 on each question.
  const std::int64_t B = 20000, N = 4;
  compat::manual_seed(5);
  const at::Tensor scores = at::randint(0, 3, {B, N}, at::TensorOptions().dtype(at::kFloat)).contiguous();
  std::vector<data::Comparison> items(static_cast<std::size_t>(B));
  const std::vector<int> best = choose_best(scores, 0.1, 11);
  const auto a = scores.accessor<float, 2>();
  double variance = 0;
  for (std::int64_t b = 0; b < B; ++b) {
    data::Comparison& c = items[static_cast<std::size_t>(b)];
    c.samples.assign(N, {1});
    c.best = best[static_cast<std::size_t>(b)];
    for (std::int64_t n = 0; n < N; ++n) c.labeler_scores.push_back(a[b][n]);
    c.labeler_noise = 0.1;
    const double p = data::question_ceiling(data::top_ties(c.labeler_scores), N, 0.1);
    variance += p * (1 - p);
  }
  const at::Tensor picked = scores.argmax(-1);
  const at::Tensor labeled = at::tensor(std::vector<std::int64_t>(best.begin(), best.end()), at::kLong);
  const double accuracy = picked.eq(labeled).to(at::kDouble).mean().item<double>();
  const double ceiling = *data::accuracy_ceiling(items).ceiling;
  const double standard_error = std::sqrt(variance) / static_cast<double>(B);
  EXPECT_NEAR(accuracy, ceiling, 4 * standard_error) << "standard error " << standard_error;
  // The noise matters at this size: leaving it out would be 0.1 * (ceiling without noise - 1/4) away.
  std::vector<data::Comparison> noiseless = items;
  for (auto& c : noiseless) c.labeler_noise = 0;
  EXPECT_GT(std::abs(*data::accuracy_ceiling(noiseless).ceiling - accuracy), 8 * standard_error);
}

class LabelerScoresInFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_ceiling_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer =
      tokenizer::load_tokenizer(fs::path(RLHF_TEST_DATA) / "tiny-gpt2");
};

TEST_F(LabelerScoresInFiles, SurviveTheOpenAiFileAndTheSplit) {
  std::vector<data::Comparison> items = known_ties();
  ppo::TokenCountReward labeler(kCounted);
  label_comparisons(items, labeler, 0.2, 1, kPad);
  write_questions(dir / "labels.json", items, /*with_best=*/true);
  // The record keeps OpenAI's keys; what the labeler saw is under "info".
  const auto records = nlohmann::json::parse(read_text_file(dir / "labels.json"));
  EXPECT_TRUE(records[0].contains("sample3") && records[0].contains("best"));
  EXPECT_EQ(records[1]["info"]["labeler_scores"], nlohmann::json({2.0, 2.0, 0.0, 1.0}));
  EXPECT_EQ(records[1]["info"]["labeler_noise"], 0.2);
  data::LabelOptions options;
  options.format = "openai";
  const data::LabelSet read = data::read_labels(dir / "labels.json", *tokenizer, options);
  ASSERT_EQ(read.items.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(read.items[i].labeler_scores, items[i].labeler_scores) << i;
    EXPECT_EQ(read.items[i].labeler_noise, 0.2) << i;
  }
  EXPECT_NEAR(*data::accuracy_ceiling(read.items).ceiling, 7.0 / 15.0, 1e-12);
  // The split reward training makes keeps each question's scores with it.
  const auto [train, validation] = data::split_labels(read.items, 0.5, 3);
  ASSERT_EQ(validation.size(), 2u);
  double sum = 0;
  for (const auto* part : {&train, &validation}) {
    for (const auto& c : *part) sum += data::question_ceiling(data::top_ties(c.labeler_scores), 4, 0.2);
  }
  EXPECT_NEAR(sum / 4, 7.0 / 15.0, 1e-12);
  EXPECT_NEAR(*data::accuracy_ceiling(train).ceiling * 2 + *data::accuracy_ceiling(validation).ceiling * 2,
              4 * 7.0 / 15.0, 1e-12);
}

TEST_F(LabelerScoresInFiles, TextLabelsKeepThemToo) {
  std::vector<data::Comparison> items = known_ties();
  ppo::TokenCountReward labeler(kCounted);
  label_comparisons(items, labeler, 0.0, 1, kPad);
  data::write_text_labels(dir / "labels.jsonl", items, *tokenizer, kPad);
  const data::LabelSet read = data::read_labels(dir / "labels.jsonl", *tokenizer, data::LabelOptions{});
  EXPECT_EQ(read.items[3].labeler_scores, (std::vector<double>{0, 5, 5, 5}));
  EXPECT_NEAR(*data::accuracy_ceiling(read.items).ceiling, 25.0 / 48.0, 1e-12);
}

TEST_F(LabelerScoresInFiles, BadInfoIsAnErrorNamingTheField) {
  const auto error_of = [&](const std::string& info) {
    write_file_atomic(dir / "bad.json",
                      "[{\"query\": [1], \"sample0\": [2], \"sample1\": [3], \"best\": 0, \"info\": " + info + "}]");
    try {
      data::read_labels(dir / "bad.json", *tokenizer, data::LabelOptions{});
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error_of("[1]"), HasSubstr("record 0: info: expected an object"));
  EXPECT_THAT(error_of("{\"labeler_scores\": [1]}"), HasSubstr("info.labeler_scores: expected a list of 2 numbers"));
  EXPECT_THAT(error_of("{\"labeler_scores\": [1, \"x\"]}"), HasSubstr("info.labeler_scores[1]: expected a finite"));
  EXPECT_THAT(error_of("{\"labeler_scores\": [1, 2], \"labeler_noise\": 1.5}"),
              HasSubstr("info.labeler_noise: expected a probability in [0, 1]"));
  EXPECT_EQ(error_of("{\"labeler_scores\": [1, 2], \"labeler_noise\": 0.5, \"other\": 1}"), "no error");
}

TEST(DescribeAccuracy, OneLineWithChanceCeilingAndShare) {
  EXPECT_EQ(data::describe_accuracy("validation accuracy", 0.62, 0.25, 0.78),
            "validation accuracy 0.620 (chance 0.250, ceiling 0.780: 70% of the achievable gain)");
  EXPECT_EQ(data::describe_accuracy("validation accuracy", 0.62, 0.25, std::nullopt),
            "validation accuracy 0.620 (chance 0.250, ceiling unknown: the labels carry no labeler scores)");
  EXPECT_EQ(data::describe_accuracy("train accuracy", 0.3, 0.25, 0.25),
            "train accuracy 0.300 (chance 0.250, ceiling 0.250: the labels carry no signal)");
}

}  // namespace
}  // namespace rlhf::labelers
