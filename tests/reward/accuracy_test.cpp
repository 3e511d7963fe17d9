// The reward model's accuracies beside chance and the ceiling (reward/accuracy.h), as stored in
// reward_model.json's training summary and read back into one line.
#include "rlhf/reward/accuracy.h"

#include <gtest/gtest.h>

namespace rlhf::reward {
namespace {

// A question of 4 samples with the labeler's scores (empty: a person's answer).
data::Comparison question(std::vector<double> scores, double noise = 0) {
  data::Comparison c;
  c.samples.assign(4, {1});
  c.labeler_scores = std::move(scores);
  c.labeler_noise = noise;
  return c;
}

TEST(AccuracyCeilings, PerSplitWithChanceAndGainShare) {
  // Train: one best (1) and two tied (1/2): ceiling 3/4. Validation: four tied (1/4) and one best with
  // noise 0.5 (0.5 + 0.5/4 = 5/8): ceiling 7/16.
  const std::vector<data::Comparison> train = {question({3, 1, 0, 0}), question({2, 2, 1, 0})};
  const std::vector<data::Comparison> validation = {question({0, 0, 0, 0}), question({1, 0, 0, 0}, 0.5)};
  nlohmann::json training = {{"train_accuracy", 0.5}, {"validation_accuracy", 0.25}};
  add_accuracy_ceilings(training, train, validation);
  EXPECT_DOUBLE_EQ(training["chance"].get<double>(), 0.25);
  EXPECT_NEAR(training["train_ceiling"].get<double>(), 0.75, 1e-12);
  EXPECT_NEAR(training["train_tied_share"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(training["train_gain_share"].get<double>(), 0.5, 1e-12);  // (0.5 - 0.25) / (0.75 - 0.25)
  EXPECT_NEAR(training["validation_ceiling"].get<double>(), 7.0 / 16.0, 1e-12);
  EXPECT_NEAR(training["validation_tied_share"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(training["validation_gain_share"].get<double>(), 0.0, 1e-12);
  EXPECT_EQ(describe_accuracy(training, "train"),
            "train accuracy 0.500 (chance 0.250, ceiling 0.750: 50% of the achievable gain)");
  EXPECT_EQ(describe_accuracy(training, "validation"),
            "validation accuracy 0.250 (chance 0.250, ceiling 0.438: 0% of the achievable gain)");
}

TEST(AccuracyCeilings, UnknownForPeopleAndOldSummaries) {
  nlohmann::json training = {{"train_accuracy", 0.5}};
  add_accuracy_ceilings(training, {question({}), question({})}, {});
  EXPECT_TRUE(training["train_ceiling"].is_null());
  EXPECT_TRUE(training["train_gain_share"].is_null());
  EXPECT_FALSE(training.contains("validation_ceiling"));
  EXPECT_EQ(describe_accuracy(training, "train"),
            "train accuracy 0.500 (chance 0.250, ceiling unknown: the labels carry no labeler scores)");
  EXPECT_EQ(describe_accuracy(training, "validation"), "");
  // A reward_model.json written before ceilings were recorded: no chance either.
  EXPECT_EQ(describe_accuracy({{"validation_accuracy", 0.3}}, "validation"),
            "validation accuracy 0.300 (ceiling unknown: the labels carry no labeler scores)");
}

}  // namespace
}  // namespace rlhf::reward
