// Adam in both formulations against values computed by hand (a scalar parameter, fixed gradients).
#include "rlhf/optim/adam.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rlhf/util/error.h"

namespace rlhf::optim {
namespace {

// Runs Adam on one scalar parameter starting at 1.0 with the given gradients; returns the values.
std::vector<double> run(AdamStyle style, const std::vector<double>& grads, double lr) {
  at::Tensor p = at::ones({1}, at::kDouble).requires_grad_(true);
  Adam adam({{"p", p}}, {0.9, 0.999, 1e-5, style});
  std::vector<double> values;
  for (double g : grads) {
    p.mutable_grad() = at::full({1}, g, at::kDouble);
    adam.step(lr);
    values.push_back(p.item<double>());
  }
  return values;
}

TEST(Adam, TensorFlowStyleByHand) {
  // step 1, g = 0.5: m = 0.05, v = 0.00025, lr_t = 0.1*sqrt(0.001)/0.1 = 0.0316228
  //   p = 1 - 0.0316228 * 0.05 / (0.0158114 + 1e-5) = 1 - 0.0999368 = 0.9000632
  // step 2, g = -1: m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975,
  //   lr_t = 0.1*sqrt(1-0.998001)/(1-0.81) = 0.1*0.0447102/0.19 = 0.0235317
  //   p = 0.9000632 + 0.0235317 * 0.055 / (0.0353518 + 1e-5) = 0.9000632 + 0.0366000 = 0.9366632
  const auto values = run(AdamStyle::TensorFlow, {0.5, -1.0}, 0.1);
  EXPECT_NEAR(values[0], 0.9000632, 1e-6);
  EXPECT_NEAR(values[1], 0.9366632, 1e-6);
}

TEST(Adam, PyTorchStyleByHand) {
  // step 1: m_hat = 0.5, v_hat = 0.25: p = 1 - 0.1 * 0.5 / (0.5 + 1e-5) = 0.9000020
  // step 2: m_hat = -0.055/0.19 = -0.2894737, v_hat = 0.00124975/0.0019990 = 0.6251876, sqrt = 0.7906881
  //   p = 0.9000020 + 0.1 * 0.2894737 / (0.7906881 + 1e-5) = 0.9000020 + 0.0366099 = 0.9366119
  const auto values = run(AdamStyle::PyTorch, {0.5, -1.0}, 0.1);
  EXPECT_NEAR(values[0], 0.9000020, 1e-6);
  EXPECT_NEAR(values[1], 0.9366119, 1e-6);
}

TEST(Adam, StylesDifferMostOnTheFirstStep) {
  // With tiny gradients the TensorFlow epsilon dominates: its first step is much smaller.
  const double tf = 1.0 - run(AdamStyle::TensorFlow, {1e-4}, 0.1)[0];
  const double pt = 1.0 - run(AdamStyle::PyTorch, {1e-4}, 0.1)[0];
  EXPECT_LT(tf, 0.5 * pt);
}

TEST(Adam, StateRoundTrips) {
  at::Tensor a = at::ones({2}, at::kDouble).requires_grad_(true);
  Adam first({{"a", a}}, {});
  a.mutable_grad() = at::full({2}, 0.3, at::kDouble);
  first.step(0.01);
  at::Tensor b = a.detach().clone().requires_grad_(true);
  Adam second({{"a", b}}, {});
  std::map<std::string, at::Tensor> saved;
  for (auto& [name, t] : first.state()) saved.emplace(name, t);
  second.load_state(saved);
  a.mutable_grad() = at::full({2}, -0.2, at::kDouble);
  b.mutable_grad() = at::full({2}, -0.2, at::kDouble);
  first.step(0.01);
  second.step(0.01);
  EXPECT_TRUE(a.equal(b));
  saved.erase("adam.step");
  EXPECT_THROW(second.load_state(saved), Error);
}

TEST(Adam, StyleNames) {
  EXPECT_EQ(parse_adam_style("tensorflow"), AdamStyle::TensorFlow);
  EXPECT_THROW(parse_adam_style("sgd"), Error);
}

}  // namespace
}  // namespace rlhf::optim
