// The fp16 loss scaler without fp16 kernels: growth after growth_interval clean steps, backoff and a
// skipped step on an injected Inf or NaN, exact unscaling, the floor at min_scale (where a
// non-finite gradient is the guards' business again), and its checkpoint state.
#include <gtest/gtest.h>

#include <limits>

#include "rlhf/optim/loss_scaler.h"
#include "rlhf/util/error.h"

namespace rlhf::optim {
namespace {

std::vector<std::pair<std::string, at::Tensor>> params_with_grads(float grad_value) {
  at::Tensor w = at::zeros({3}).set_requires_grad(true);
  w.mutable_grad() = at::full({3}, grad_value);
  at::Tensor b = at::zeros({2}).set_requires_grad(true);
  b.mutable_grad() = at::full({2}, 2.0f * grad_value);
  return {{"w", w}, {"b", b}, {"no_grad", at::zeros({1})}};
}

LossScalerOptions enabled(int growth_interval = 3) {
  LossScalerOptions o;
  o.enabled = true;
  o.init_scale = 1024.0;
  o.growth_interval = growth_interval;
  return o;
}

TEST(LossScaler, DisabledIsTheIdentity) {
  LossScaler s;
  EXPECT_FALSE(s.enabled());
  EXPECT_EQ(s.scale(), 1.0);
  const at::Tensor loss = at::tensor({2.5f});
  EXPECT_TRUE(s.scale_loss(loss).equal(loss));
  auto params = params_with_grads(4.0f);
  s.unscale(params);
  EXPECT_EQ(params[0].second.grad()[0].item<float>(), 4.0f);
  EXPECT_FALSE(s.is_overflow(false));  // a non-finite gradient is the guards' business
  EXPECT_TRUE(s.update(false));
  EXPECT_EQ(s.skipped_steps(), 0);
}

TEST(LossScaler, ScalesTheLossAndUnscalesGradientsExactly) {
  LossScaler s(enabled());
  EXPECT_EQ(s.scale_loss(at::tensor({0.75f})).item<float>(), 768.0f);
  auto params = params_with_grads(3.0f * 1024.0f);  // as backward of the scaled loss leaves them
  s.unscale(params);
  EXPECT_EQ(params[0].second.grad()[0].item<float>(), 3.0f);
  EXPECT_EQ(params[1].second.grad()[1].item<float>(), 6.0f);
  EXPECT_TRUE(gradients_finite(params));
}

TEST(LossScaler, GrowsAfterGrowthIntervalCleanSteps) {
  LossScaler s(enabled(3));
  EXPECT_TRUE(s.update(true));
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 1024.0);
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 2048.0);
  EXPECT_EQ(s.clean_steps(), 0);
  for (int i = 0; i < 3; ++i) s.update(true);
  EXPECT_EQ(s.scale(), 4096.0);
  EXPECT_EQ(s.skipped_steps(), 0);
}

TEST(LossScaler, InjectedInfSkipsTheStepAndBacksOff) {
  for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    LossScaler s(enabled(3));
    s.update(true);
    s.update(true);  // two clean steps toward growth
    auto params = params_with_grads(1.0f);
    params[1].second.mutable_grad()[0].fill_(bad);
    s.unscale(params);
    const bool finite = gradients_finite(params);
    EXPECT_FALSE(finite);
    EXPECT_TRUE(s.is_overflow(finite));
    EXPECT_FALSE(s.update(finite)) << "the step must be skipped";
    EXPECT_EQ(s.scale(), 512.0);
    EXPECT_EQ(s.skipped_steps(), 1);
    EXPECT_EQ(s.clean_steps(), 0);  // the count toward growth restarts
    s.update(true);
    s.update(true);
    EXPECT_EQ(s.scale(), 512.0);
    s.update(true);
    EXPECT_EQ(s.scale(), 1024.0);
  }
}

TEST(LossScaler, AtMinScaleANonFiniteGradientIsNoLongerAnOverflow) {
  LossScalerOptions o = enabled();
  o.init_scale = 4.0;
  o.min_scale = 1.0;
  LossScaler s(o);
  EXPECT_TRUE(s.is_overflow(false));
  s.update(false);
  EXPECT_EQ(s.scale(), 2.0);
  s.update(false);
  EXPECT_EQ(s.scale(), 1.0);
  s.update(false);
  EXPECT_EQ(s.scale(), 1.0);  // never below the floor
  EXPECT_FALSE(s.is_overflow(false)) << "at min_scale scaling cannot explain the NaN: the guards decide";
  EXPECT_FALSE(s.is_overflow(true));
}

TEST(LossScaler, StateRoundTrips) {
  LossScaler s(enabled(5));
  s.update(false);
  s.update(true);
  s.update(true);
  LossScaler t(enabled(5));
  t.load_state(s.state());
  EXPECT_EQ(t.scale(), 512.0);
  EXPECT_EQ(t.clean_steps(), 2);
  EXPECT_EQ(t.skipped_steps(), 1);
  EXPECT_THROW(t.load_state(nlohmann::json{{"scale", -1.0}, {"clean_steps", 0}, {"skipped_steps", 0}}), Error);
  EXPECT_THROW(t.load_state(nlohmann::json{{"scale", 2.0}}), Error);
}

TEST(LossScaler, RefusesBadOptions) {
  LossScalerOptions o = enabled();
  o.backoff_factor = 1.5;
  EXPECT_THROW(LossScaler{o}, Error);
  o = enabled();
  o.growth_interval = 0;
  EXPECT_THROW(LossScaler{o}, Error);
}

}  // namespace
}  // namespace rlhf::optim
