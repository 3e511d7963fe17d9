// The PPO losses of OpenAI's train_policy.py (paper-spec 4.4), with their diagnostics. Means run over
// every batch x token element; nothing is masked (PPO trains on the untruncated responses).
#pragma once

#include <ATen/ATen.h>

namespace rlhf::ppo {

// The dtype log-probabilities, values, rewards and losses are computed in: fp32 for an fp32, bf16 or
// fp16 tensor, float64 for float64 (tests/ppo/ppo_golden_test.cpp runs a PPO step in float64).
inline at::ScalarType loss_dtype(const at::Tensor& t) {
  return t.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

struct PolicyLoss {
  at::Tensor loss;      // scalar: mean(max(-A * ratio, -A * clip(ratio, 1 - c, 1 + c)))
  at::Tensor clipfrac;  // scalar: fraction of elements where the clipped term is the larger one
  at::Tensor approxkl;  // scalar: 0.5 * mean((logp - logp_old)^2)
};

// logprobs (with gradient), old_logprobs, advantages: [B, N].
PolicyLoss policy_loss(const at::Tensor& logprobs, const at::Tensor& old_logprobs, const at::Tensor& advantages,
                       double cliprange);

struct ValueLoss {
  at::Tensor loss;      // scalar: 0.5 * mean(max((v - R)^2, (clip(v, v_old - c, v_old + c) - R)^2))
  at::Tensor clipfrac;  // scalar: fraction of elements where the clipped term is the larger one
};

// values (with gradient), old_values, returns: [B, N].
ValueLoss value_loss(const at::Tensor& values, const at::Tensor& old_values, const at::Tensor& returns,
                     double cliprange_value);

// 1 - var(returns - values) / var(returns) (biased variances, over all elements), as a double.
double explained_variance(const at::Tensor& values, const at::Tensor& returns);
// The same as a 0-dim double tensor on the inputs' device, without a host synchronisation.
at::Tensor explained_variance_tensor(const at::Tensor& values, const at::Tensor& returns);

// Entropy of softmax(logits) along the last dimension: [..., V] -> [...].
at::Tensor entropy_from_logits(const at::Tensor& logits);

}  // namespace rlhf::ppo
