// The learning-rate schedule at chosen steps, computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "rlhf/sft/config.h"
#include "rlhf/sft/schedule.h"
#include "rlhf/util/error.h"

namespace rlhf::sft {
namespace {

// peak 1e-3, 10 warm-up steps, 110 steps in all: the decay spans steps 10..109 (100 steps).
TEST(SftSchedule, WarmupThenCosine) {
  EXPECT_DOUBLE_EQ(scheduled_lr("cosine", 1e-3, 10, 110, 0), 1e-4);   // 1/10 of the peak
  EXPECT_DOUBLE_EQ(scheduled_lr("cosine", 1e-3, 10, 110, 4), 5e-4);   // 5/10
  EXPECT_DOUBLE_EQ(scheduled_lr("cosine", 1e-3, 10, 110, 9), 1e-3);   // the last warm-up step reaches the peak
  EXPECT_DOUBLE_EQ(scheduled_lr("cosine", 1e-3, 10, 110, 10), 1e-3);  // progress 0
  // progress 0.25: (1 + cos(pi/4)) / 2 = 0.8535533905932737
  EXPECT_NEAR(scheduled_lr("cosine", 1e-3, 10, 110, 35), 0.8535533905932737e-3, 1e-15);
  EXPECT_NEAR(scheduled_lr("cosine", 1e-3, 10, 110, 60), 0.5e-3, 1e-15);  // progress 0.5
  // the last step, progress 0.99: (1 + cos(0.99 pi)) / 2 = 2.4671981713420017e-4 of the peak
  EXPECT_NEAR(scheduled_lr("cosine", 1e-3, 10, 110, 109), 2.4671981713420017e-7, 1e-18);
}

TEST(SftSchedule, LinearAndConstant) {
  EXPECT_DOUBLE_EQ(scheduled_lr("linear", 1e-3, 10, 110, 9), 1e-3);
  EXPECT_NEAR(scheduled_lr("linear", 1e-3, 10, 110, 35), 0.75e-3, 1e-15);
  EXPECT_NEAR(scheduled_lr("linear", 1e-3, 10, 110, 109), 0.01e-3, 1e-15);
  EXPECT_DOUBLE_EQ(scheduled_lr("constant", 1e-3, 10, 110, 3), 4e-4);  // warm-up still applies
  EXPECT_DOUBLE_EQ(scheduled_lr("constant", 1e-3, 10, 110, 100), 1e-3);
  EXPECT_DOUBLE_EQ(scheduled_lr("linear", 2e-4, 0, 4, 0), 2e-4);  // no warm-up: the first step at the peak
  EXPECT_DOUBLE_EQ(scheduled_lr("linear", 2e-4, 0, 4, 2), 1e-4);
  EXPECT_THROW(scheduled_lr("step", 1e-3, 0, 10, 0), Error);
}

TEST(SftSchedule, Defaults) {
  SftConfig config;
  config.model = "m";
  EXPECT_DOUBLE_EQ(effective_lr(config), 1e-4);
  EXPECT_DOUBLE_EQ(effective_dropout(config), 0.0);  // lm mode
  config.data.mode = "pairs";
  EXPECT_DOUBLE_EQ(effective_dropout(config), 0.1);  // the paper's supervised baseline
  config.model.clear();
  config.init_config = "c.json";
  EXPECT_DOUBLE_EQ(effective_lr(config), 1e-3);
  config.training.lr = 5e-4;
  EXPECT_DOUBLE_EQ(effective_lr(config), 5e-4);
  EXPECT_EQ(effective_warmup_steps(config.training, 200), 10);  // 5%
  config.training.warmup_steps = 300;
  EXPECT_EQ(effective_warmup_steps(config.training, 200), 200);
}

}  // namespace
}  // namespace rlhf::sft
