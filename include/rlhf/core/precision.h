// Mixed-precision training (runtime.train_precision, --train-precision): the forward passes that
// train, and the passes their results are compared with (the rollout's log-probabilities and values,
// the frozen reference, the reward model's validation and normalisation scores), run under autocast
// to bf16 or fp16. The parameters stay fp32 (master weights), so do their gradients and Adam's
// moments; losses are computed from fp32 casts of the logits, values and rewards. fp16 adds dynamic
// loss scaling (optim/loss_scaler.h); bf16 has fp32's range and needs none.
#pragma once

#include <ATen/ATen.h>

#include "rlhf/core/runtime.h"
#include "rlhf/core/torch_compat.h"

namespace rlhf::core {

// Where and how training passes run. A pass opens `compat::AutocastGuard autocast(p.device, p.dtype());`
// around its forward computation (a no-op for fp32) and leaves backward outside it, as PyTorch advises.
struct TrainPrecision {
  at::Device device = at::kCPU;
  Precision precision = Precision::FP32;

  bool mixed() const { return precision != Precision::FP32; }
  bool loss_scaling() const { return precision == Precision::FP16; }
  // The autocast dtype; kFloat = no autocast.
  at::ScalarType dtype() const { return precision_dtype(precision); }
};

inline TrainPrecision train_precision(const Runtime& runtime) { return {runtime.device, runtime.train_precision}; }

// "fp32" | "bf16" | "fp16", as in the configuration.
const char* precision_name(Precision p);

}  // namespace rlhf::core
