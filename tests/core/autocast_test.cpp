// compat::AutocastGuard on the CPU (LibTorch 1.13's CPU autocast supports bf16; the 2.4+ API is the
// same guard): matrix products run in bf16 inside, fp32 after, the previous state comes back (nested
// guards included), and fp32 makes it a no-op.
#include <gtest/gtest.h>

#include "rlhf/core/precision.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/util/error.h"

namespace rlhf::compat {
namespace {

TEST(AutocastGuard, MatmulRunsInBf16InsideAndFp32After) {
  const at::Tensor a = at::randn({4, 8}), b = at::randn({8, 3});
  ASSERT_FALSE(autocast_enabled(at::kCPU));
  {
    AutocastGuard guard(at::kCPU, at::kBFloat16);
    EXPECT_TRUE(guard.active());
    EXPECT_TRUE(autocast_enabled(at::kCPU));
    EXPECT_EQ(autocast_dtype(at::kCPU), at::kBFloat16);
    const at::Tensor c = at::matmul(a, b);
    EXPECT_EQ(c.scalar_type(), at::kBFloat16);
    // The product of the bf16-rounded inputs, as autocast promises.
    const at::Tensor expected = at::matmul(a.to(at::kBFloat16).to(at::kFloat), b.to(at::kBFloat16).to(at::kFloat));
    EXPECT_LT((c.to(at::kFloat) - expected).abs().max().item<double>(), 0.05);
    // Inputs and parameters are untouched.
    EXPECT_EQ(a.scalar_type(), at::kFloat);
  }
  EXPECT_FALSE(autocast_enabled(at::kCPU));
  EXPECT_EQ(at::matmul(a, b).scalar_type(), at::kFloat);
}

TEST(AutocastGuard, NestedGuardsRestoreTheOuterState) {
  const at::Tensor a = at::randn({2, 2});
  {
    AutocastGuard outer(at::kCPU, at::kBFloat16);
    {
      AutocastGuard inner(at::kCPU, at::kFloat);  // fp32: no-op, autocast stays on
      EXPECT_FALSE(inner.active());
      EXPECT_EQ(at::matmul(a, a).scalar_type(), at::kBFloat16);
    }
    {
      AutocastGuard inner(at::kCPU, at::kBFloat16);
      EXPECT_EQ(at::matmul(a, a).scalar_type(), at::kBFloat16);
    }
    EXPECT_TRUE(autocast_enabled(at::kCPU));  // the inner guard restored the outer's state
    EXPECT_EQ(at::matmul(a, a).scalar_type(), at::kBFloat16);
  }
  EXPECT_FALSE(autocast_enabled(at::kCPU));
}

TEST(AutocastGuard, GradientsOfFp32ParametersStayFp32) {
  at::Tensor w = at::randn({8, 3}).set_requires_grad(true);
  const at::Tensor x = at::randn({4, 8});
  at::Tensor y;
  {
    AutocastGuard guard(at::kCPU, at::kBFloat16);
    y = at::matmul(x, w);
  }
  EXPECT_EQ(y.scalar_type(), at::kBFloat16);
  y.to(at::kFloat).sum().backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().scalar_type(), at::kFloat);
  // d/dw sum(x w) = x^T 1: the bf16 backward of the rounded x, within bf16's resolution.
  const at::Tensor expected = x.sum(0, true).t().expand({8, 3});
  EXPECT_LT((w.grad() - expected).abs().max().item<double>(), 0.05);
}

TEST(TrainPrecision, DtypesAndScaling) {
  core::Runtime rt;
  EXPECT_FALSE(core::train_precision(rt).mixed());
  EXPECT_EQ(core::train_precision(rt).dtype(), at::kFloat);
  rt.train_precision = core::Precision::BF16;
  EXPECT_TRUE(core::train_precision(rt).mixed());
  EXPECT_FALSE(core::train_precision(rt).loss_scaling());
  EXPECT_EQ(core::train_precision(rt).dtype(), at::kBFloat16);
  rt.train_precision = core::Precision::FP16;
  EXPECT_TRUE(core::train_precision(rt).loss_scaling());
  EXPECT_EQ(core::train_precision(rt).dtype(), at::kHalf);
  EXPECT_STREQ(core::precision_name(core::Precision::FP16), "fp16");
}

TEST(TrainPrecision, RuntimeRefusesFp16OnTheCpuAndBadNames) {
  core::RuntimeConfig c;
  c.device = "cpu";
  c.log_level = "warn";
  c.train_precision = "bf16";
  EXPECT_EQ(core::init_runtime(c).train_precision, core::Precision::BF16);
  c.train_precision = "fp16";
  EXPECT_THROW(core::init_runtime(c), Error);
  c.train_precision = "fp8";
  try {
    core::init_runtime(c);
    FAIL() << "fp8 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train_precision"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlhf::compat
