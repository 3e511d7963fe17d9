// summary.md of `rlhf train` (render_summary): the reward model's accuracies in one line with chance
// and the ceiling, and "ceiling unknown" for labels without the labeler's scores.
#include "rlhf/pipeline/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rlhf::pipeline {
namespace {

using ::testing::HasSubstr;

TEST(RenderSummary, RewardModelLineHasChanceCeilingAndShare) {
  const nlohmann::ordered_json summary = {
      {"run_dir", "runs/demo/train"},
      {"labels", {{"questions", 4096}, {"labeler", "lexicon x"}, {"noise", 0.0}, {"tied_share", 0.123}}},
      {"reward_model",
       {{"train_accuracy", 0.7},
        {"validation_accuracy", 0.62},
        {"validation_count", 410},
        {"chance", 0.25},
        {"train_ceiling", 0.8},
        {"validation_ceiling", 0.78}}}};
  const std::string text = render_summary(summary);
  EXPECT_THAT(text, HasSubstr("- labels: 4096 questions answered by lexicon x (noise 0.00); the labeler's top score "
                              "is tied in 12.3% of them\n"));
  EXPECT_THAT(text, HasSubstr("- reward model: validation accuracy 0.620 (chance 0.250, ceiling 0.780: 70% of the "
                              "achievable gain) on 410 held-out comparisons; train accuracy 0.700 (chance 0.250, "
                              "ceiling 0.800: 82% of the achievable gain)\n"));
}

TEST(RenderSummary, LabelsWithoutScoresSayCeilingUnknown) {
  const nlohmann::ordered_json summary = {{"reward_model",
                                           {{"train_accuracy", 0.7},
                                            {"chance", 0.25},
                                            {"train_ceiling", nullptr},
                                            {"validation_accuracy", 0.6},
                                            {"validation_count", 10},
                                            {"validation_ceiling", nullptr}}}};
  EXPECT_THAT(render_summary(summary),
              HasSubstr("- reward model: validation accuracy 0.600 (chance 0.250, ceiling unknown: the labels carry "
                        "no labeler scores) on 10 held-out comparisons; train accuracy 0.700 (chance 0.250, ceiling "
                        "unknown: the labels carry no labeler scores)\n"));
}

}  // namespace
}  // namespace rlhf::pipeline
