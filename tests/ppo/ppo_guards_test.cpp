// The guard building blocks: the independent reward recomputation, gradient cosines, and the trend
// monitor's slope test, on hand-made inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rlhf/ppo/guards.h"
#include "rlhf/ppo/rewards.h"
#include "torch_test_util.h"

namespace rlhf::ppo {
namespace {

using testing::float_matrix;
using ::testing::HasSubstr;

TEST(PpoGuards, RewardRecomputationAcceptsTheRealRewards) {
  const at::Tensor logp = float_matrix({{-1, -2, -0.5f}, {-0.3f, -0.2f, -4}});
  const at::Tensor ref = float_matrix({{-1.5f, -1, -0.5f}, {-0.1f, -0.9f, -3}});
  const at::Tensor score = at::tensor({0.7f, -1.0f});
  const at::Tensor rewards = kl_penalized_rewards(score, per_token_kl(logp, ref), 0.15);
  EXPECT_NO_THROW(check_rewards(rewards, score, logp, ref, 0.15, 3));
}

TEST(PpoGuards, RewardRecomputationCatchesEachSignError) {
  const at::Tensor logp = float_matrix({{-1, -2, -0.5f}, {-0.3f, -0.2f, -4}});
  const at::Tensor ref = float_matrix({{-1.5f, -1, -0.5f}, {-0.1f, -0.9f, -3}});
  const at::Tensor score = at::tensor({0.7f, -1.0f});
  const at::Tensor kl = per_token_kl(logp, ref);
  // The paper's bug (both signs), the KL penalty's sign alone, the score's sign alone.
  const at::Tensor both = -kl_penalized_rewards(score, kl, 0.15);
  const at::Tensor penalty = kl_penalized_rewards(score, -kl, 0.15);
  const at::Tensor only_score = kl_penalized_rewards(-score, kl, 0.15);
  for (const at::Tensor& wrong : {both, penalty, only_score}) {
    try {
      check_rewards(wrong, score, logp, ref, 0.15, 3);
      ADD_FAILURE() << "not caught";
    } catch (const GuardError& e) {
      EXPECT_THAT(e.what(), HasSubstr("batch 3"));
    }
  }
  try {
    check_rewards(both, score, logp, ref, 0.15, 3);
  } catch (const GuardError& e) {
    EXPECT_THAT(e.what(), HasSubstr("reward sign is flipped"));
  }
}

TEST(PpoGuards, GradientCosine) {
  // (1, 2) . (2, 1) = 4, norms sqrt(5) and sqrt(5): 0.8; an undefined gradient counts as zeros.
  EXPECT_NEAR(gradient_cosine({at::tensor({1.0f, 2.0f}), at::Tensor()}, {at::tensor({2.0f, 1.0f}), at::Tensor()}), 0.8,
              1e-7);
  EXPECT_NEAR(gradient_cosine({at::tensor({1.0f}), at::tensor({1.0f})}, {at::tensor({-1.0f}), at::Tensor()}),
              -1.0 / std::sqrt(2.0), 1e-7);
}

TEST(PpoGuards, SlopeAndItsTStatistic) {
  // y = 1, 3, 2, 4 against x = 0..3: x_mean 1.5, y_mean 2.5, sxx 5, sxy 4 -> slope 0.8;
  // residuals -0.3, 0.9, -0.9, 0.3: sse 1.8, se = sqrt(1.8 / 2 / 5) = 0.4242641, t = 1.8856181.
  const Slope s = slope_t({1, 3, 2, 4});
  EXPECT_NEAR(s.slope, 0.8, 1e-12);
  EXPECT_NEAR(s.t, 1.8856181, 1e-6);
  EXPECT_EQ(slope_t({1, 2}).t, 0.0);  // too short to tell
}

TEST(PpoGuards, TrendMonitorStopsOnlyWhenScoreFallsAndKlRises) {
  // Score falling and KL rising, both clearly: stops once the window is full.
  TrendMonitor bad(5, 3.0);
  const std::vector<double> falling = {1.0, 0.9, 0.82, 0.7, 0.61}, rising = {0.5, 1.1, 1.4, 2.1, 2.6};
  for (int i = 0; i < 4; ++i) bad.add(falling[i], rising[i], i);
  EXPECT_THROW(bad.add(falling[4], rising[4], 4), GuardError);

  // Score rising with KL rising (a healthy run), or falling with KL falling: never.
  TrendMonitor good(5, 3.0), calm(5, 3.0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_NO_THROW(good.add(0.1 * i + 0.01 * (i % 2), 0.5 * i, i));
    EXPECT_NO_THROW(calm.add(-0.1 * i, -0.5 * i + 0.01 * (i % 3), i));
  }
  // The history survives a checkpoint: the restored monitor fires on the same next batch.
  TrendMonitor first(5, 3.0);
  for (int i = 0; i < 4; ++i) first.add(falling[i], rising[i], i);
  TrendMonitor restored(5, 3.0);
  restored.load_state(nlohmann::json::parse(first.state().dump()));
  EXPECT_THROW(restored.add(falling[4], rising[4], 4), GuardError);
  // Window 0 turns it off.
  TrendMonitor off(0, 3.0);
  for (int i = 0; i < 10; ++i) EXPECT_NO_THROW(off.add(-i, i, i));
}

}  // namespace
}  // namespace rlhf::ppo
