// Every PPO formula against values computed by hand (the arithmetic is written out next to each).
#include <gtest/gtest.h>

#include <cmath>

#include "rlhf/ppo/advantages.h"
#include "rlhf/ppo/kl_controller.h"
#include "rlhf/ppo/losses.h"
#include "rlhf/ppo/rewards.h"
#include "torch_test_util.h"

namespace rlhf::ppo {
namespace {

using testing::float_matrix;
using testing::long_matrix;

void expect_near(const at::Tensor& actual, const std::vector<float>& expected, double tol = 1e-5) {
  const at::Tensor flat = actual.detach().to(at::kFloat).contiguous().view(-1);
  ASSERT_EQ(flat.numel(), static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(flat[i].item<float>(), expected[i], tol) << "element " << i;
  }
}

TEST(PpoWhiten, ShiftsAndScalesWithTheBiasedVariance) {
  // x = 1 2 3 6: mean 3, deviations -2 -1 0 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5,
  // rsqrt(3.5 + 1e-8) = 0.53452248.
  const at::Tensor x = float_matrix({{1, 2}, {3, 6}});
  expect_near(whiten(x), {-1.0690450f, -0.5345225f, 0.0f, 1.6035675f});
}

TEST(PpoWhiten, WithoutMeanShiftKeepsTheMean) {
  // The same scaled deviations plus the mean 3 back.
  const at::Tensor x = float_matrix({{1, 2}, {3, 6}});
  expect_near(whiten(x, /*shift_mean=*/false), {1.9309550f, 2.4654775f, 3.0f, 4.6035675f});
}

TEST(PpoWhiten, EpsilonKeepsAConstantFinite) {
  // Variance 0: (x - mean) * rsqrt(0 + 1e-8) = 0 everywhere, the mean added back without the shift.
  const at::Tensor x = at::full({2, 3}, 0.25f);
  expect_near(whiten(x), {0, 0, 0, 0, 0, 0});
  expect_near(whiten(x, false), {0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f});
}

TEST(PpoGae, AdvantagesAndReturnsByHand) {
  // gamma 0.9, lambda 0.5, so gamma * lambda = 0.45; V after the last token is 0.
  // Row 0: r = 0 0 1, V = 0.5 0.2 0.4
  //   t=2: delta = 1 + 0.9*0 - 0.4 = 0.6                A2 = 0.6
  //   t=1: delta = 0 + 0.9*0.4 - 0.2 = 0.16             A1 = 0.16 + 0.45*0.6 = 0.43
  //   t=0: delta = 0 + 0.9*0.2 - 0.5 = -0.32            A0 = -0.32 + 0.45*0.43 = -0.1265
  // Row 1: r = 1 0 0.5, V = 0.1 0 0
  //   t=2: delta = 0.5                                  A2 = 0.5
  //   t=1: delta = 0                                    A1 = 0.45*0.5 = 0.225
  //   t=0: delta = 1 + 0 - 0.1 = 0.9                    A0 = 0.9 + 0.45*0.225 = 1.00125
  // Returns = A + V (before whitening): 0.3735 0.63 1.0 | 1.10125 0.225 0.5.
  // Whitened over all six: mean 0.4382917, biased std 0.3443427 -> (A - mean) / std below.
  const at::Tensor rewards = float_matrix({{0, 0, 1}, {1, 0, 0.5f}});
  const at::Tensor values = float_matrix({{0.5f, 0.2f, 0.4f}, {0.1f, 0, 0}});
  const Gae gae = compute_gae(rewards, values, 0.9, 0.5);
  expect_near(gae.returns, {0.3735f, 0.63f, 1.0f, 1.10125f, 0.225f, 0.5f});
  expect_near(gae.advantages, {-1.6402022f, -0.0240797f, 0.4696145f, 1.6348781f, -0.6194168f, 0.1792062f});
}

TEST(PpoGae, PaperSettingIsDiscountedSumOfTdErrors) {
  // gamma 1, lambda 0.95 on one token: A = r - V, returns = r.
  const at::Tensor rewards = float_matrix({{2}, {-1}});
  const at::Tensor values = float_matrix({{0.5f}, {0.5f}});
  const Gae gae = compute_gae(rewards, values, 1.0, 0.95);
  expect_near(gae.returns, {2, -1});
  // A = 1.5, -1.5: mean 0, std 1.5 -> 1, -1.
  expect_near(gae.advantages, {1, -1});
}

TEST(PpoLosses, ClippedPolicyLossByHand) {
  // ratio = 1.5 0.5 1.1 0.7 (old logp 0), A = 1 1 -1 -2, cliprange 0.2:
  //   e0: -1*1.5 = -1.5 vs -1*1.2 = -1.2 -> -1.2 (clipped term wins)
  //   e1: -1*0.5 = -0.5 vs -1*0.8 = -0.8 -> -0.5
  //   e2:  1*1.1 =  1.1 vs  1*1.1 =  1.1 ->  1.1 (inside the range)
  //   e3:  2*0.7 =  1.4 vs  2*0.8 =  1.6 ->  1.6 (clipped term wins)
  // loss = (-1.2 - 0.5 + 1.1 + 1.6) / 4 = 0.25; clipfrac = 2/4.
  // approxkl = 0.5 * mean(ln(r)^2) = 0.5 * (0.1644019 + 0.4804530 + 0.0090840 + 0.1272170) / 4 = 0.0976445.
  // d loss / d logp: e1 -A*r/4 = -0.125, e2 -A*r/4 = 0.275, clipped elements 0.
  const at::Tensor logp = at::log(float_matrix({{1.5f, 0.5f, 1.1f, 0.7f}})).set_requires_grad(true);
  const at::Tensor old = at::zeros({1, 4});
  const at::Tensor adv = float_matrix({{1, 1, -1, -2}});
  const PolicyLoss pl = policy_loss(logp, old, adv, 0.2);
  EXPECT_NEAR(pl.loss.item<float>(), 0.25f, 1e-6);
  EXPECT_NEAR(pl.clipfrac.item<float>(), 0.5f, 1e-6);
  EXPECT_NEAR(pl.approxkl.item<float>(), 0.0976445f, 1e-6);
  pl.loss.backward();
  expect_near(logp.grad(), {0.0f, -0.125f, 0.275f, 0.0f}, 1e-6);
}

TEST(PpoLosses, ClippedValueLossByHand) {
  // V_old = 0 0 1, V = 0.5 -0.1 1.3, R = 1 0 0, cliprange_value 0.2:
  //   e0: (0.5-1)^2 = 0.25 vs (0.2-1)^2 = 0.64 -> 0.64 (clipped term wins)
  //   e1: (-0.1)^2 = 0.01 both                  -> 0.01
  //   e2: (1.3)^2 = 1.69 vs (1.2)^2 = 1.44       -> 1.69
  // loss = 0.5 * (0.64 + 0.01 + 1.69) / 3 = 0.39; clipfrac = 1/3.
  // d loss / d V: e0 0 (clipped, V outside the clip range), e1 0.5*2*(-0.1)/3, e2 0.5*2*1.3/3.
  const at::Tensor v = float_matrix({{0.5f, -0.1f, 1.3f}}).set_requires_grad(true);
  const ValueLoss vl = value_loss(v, float_matrix({{0, 0, 1}}), float_matrix({{1, 0, 0}}), 0.2);
  EXPECT_NEAR(vl.loss.item<float>(), 0.39f, 1e-6);
  EXPECT_NEAR(vl.clipfrac.item<float>(), 1.0f / 3.0f, 1e-6);
  vl.loss.backward();
  expect_near(v.grad(), {0.0f, -0.1f / 3.0f, 1.3f / 3.0f}, 1e-6);
}

TEST(PpoLosses, ExplainedVarianceAndEntropy) {
  // R = 1 2 3 4 (var 1.25), V = 1 2 3 3 (R - V = 0 0 0 1, var 0.1875): 1 - 0.1875/1.25 = 0.85.
  EXPECT_NEAR(explained_variance(float_matrix({{1, 2, 3, 3}}), float_matrix({{1, 2, 3, 4}})), 0.85, 1e-12);
  // Uniform over 4: ln 4; one-hot (logits 0 and -inf): 0.
  const at::Tensor logits = float_matrix({{0, 0, 0, 0}, {0, -INFINITY, -INFINITY, -INFINITY}});
  const at::Tensor h = entropy_from_logits(logits.masked_fill(logits.isinf(), -1e9));
  expect_near(h, {std::log(4.0f), 0.0f});
}

TEST(PpoTruncation, CutsAfterTheFirstTruncateTokenAtOrPastTheMinimum) {
  // truncate_token 13, truncate_after 2, pad 99.
  const TruncationOptions o{13, 2, 99, -1.0};
  const at::Tensor responses = long_matrix({{5, 13, 7, 13, 8, 13},  // first 13 at index >= 2 is index 3
                                            {13, 13, 5, 6, 7, 8},   // 13s only before index 2: kept, penalized
                                            {1, 2, 13, 4, 5, 6},    // exactly at the minimum
                                            {1, 2, 3, 4, 5, 13}});  // at the last index: nothing after it
  const at::Tensor processed = truncate_responses(responses, o);
  EXPECT_TRUE(processed.equal(
      long_matrix({{5, 13, 7, 13, 99, 99}, {13, 13, 5, 6, 7, 8}, {1, 2, 13, 99, 99, 99}, {1, 2, 3, 4, 5, 13}})));
  EXPECT_TRUE(has_truncate_token(processed, o).equal(at::tensor({1, 0, 1, 1}).to(at::kBool)));
  const at::Tensor score = at::tensor({0.5f, 0.7f, 0.9f, 1.1f});
  expect_near(apply_penalty(score, processed, o), {0.5f, -1.0f, 0.9f, 1.1f});
}

TEST(PpoTruncation, NoTruncateTokenMeansNoCutAndNoPenalty) {
  const TruncationOptions o{-1, 0, 99, -1.0};
  const at::Tensor responses = long_matrix({{5, 13, 7}, {1, 2, 3}});
  EXPECT_TRUE(truncate_responses(responses, o).equal(responses));
  expect_near(apply_penalty(at::tensor({0.5f, 0.7f}), responses, o), {0.5f, 0.7f});
}

TEST(PpoRewards, KlPenaltyOnEveryTokenScoreOnTheLast) {
  // kl = logp - ref = (0.5, -1), (0, 1); beta 0.1; scores 2 and -1 on the last token:
  // (-0.05, 0.1 + 2), (0, -0.1 - 1).
  const at::Tensor logp = float_matrix({{-1, -2}, {-0.5f, -0.5f}});
  const at::Tensor ref = float_matrix({{-1.5f, -1}, {-0.5f, -1.5f}});
  const at::Tensor kl = per_token_kl(logp, ref);
  expect_near(kl, {0.5f, -1, 0, 1});
  expect_near(kl_penalized_rewards(at::tensor({2.0f, -1.0f}), kl, 0.1), {-0.05f, 2.1f, 0.0f, -1.1f});
}

TEST(PpoKlController, AdaptiveTrajectoryByHand) {
  // beta0 0.15, target 6, horizon 10000, n_steps 512: gain n_steps / horizon = 0.0512.
  KlOptions options;
  KlController kl(options);
  const double n = 512;
  // KL 9: error 9/6 - 1 = 0.5, clipped to 0.2: beta = 0.15 * (1 + 0.2 * 0.0512) = 0.151536
  kl.update(9.0, n);
  EXPECT_NEAR(kl.value(), 0.151536, 1e-12);
  // KL 6.6: error 0.1: beta = 0.151536 * 1.00512 = 0.152311864...
  kl.update(6.6, n);
  EXPECT_NEAR(kl.value(), 0.151536 * 1.00512, 1e-12);
  EXPECT_NEAR(kl.value(), 0.15231186, 1e-8);
  // KL 3: error -0.5, clipped to -0.2: beta *= 0.98976 -> 0.15075219
  kl.update(3.0, n);
  EXPECT_NEAR(kl.value(), 0.15075219, 1e-8);
  // KL 6: error 0: unchanged
  kl.update(6.0, n);
  EXPECT_NEAR(kl.value(), 0.15075219, 1e-8);
  // KL 5.4: error -0.1: beta *= 0.99488 -> 0.14998034
  kl.update(5.4, n);
  EXPECT_NEAR(kl.value(), 0.14998034, 1e-8);
}

TEST(PpoKlController, FixedNeverMovesAndStateRoundTrips) {
  KlOptions options;
  options.adaptive = false;
  options.kl_coef = 0.03;
  KlController kl(options);
  kl.update(100.0, 32);
  kl.update(0.0, 32);
  EXPECT_EQ(kl.value(), 0.03);

  KlController adaptive(KlOptions{});
  adaptive.update(7.123, 512);
  KlController restored(KlOptions{});
  restored.load_state(nlohmann::json::parse(adaptive.state().dump()));
  EXPECT_EQ(restored.value(), adaptive.value());  // bit-exact through JSON
}

}  // namespace
}  // namespace rlhf::ppo
