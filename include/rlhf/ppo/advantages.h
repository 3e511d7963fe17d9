// Whitening and generalized advantage estimation, exactly as OpenAI's train_policy.py `loss` computes
// them (paper-spec 4.3): biased variance, epsilon 1e-8 inside the rsqrt, V after the last token = 0,
// returns from the advantages before they are whitened.
#pragma once

#include <ATen/ATen.h>

namespace rlhf::ppo {

// (x - mean) * rsqrt(var + 1e-8) over all elements, with the biased (population) variance; with
// shift_mean = false the mean is added back, so only the scale changes (used for rewards).
at::Tensor whiten(const at::Tensor& x, bool shift_mean = true);

struct Gae {
  at::Tensor advantages;  // [B, N], whitened (mean 0, variance 1 over all elements)
  at::Tensor returns;     // [B, N] = raw advantages + values
};

// rewards, values: fp32 [B, N] over the response tokens; values[t] is V of the state before token t.
//   delta_t = r_t + gamma * V_{t+1} - V_t   (V_N = 0)
//   A_t     = delta_t + gamma * lam * A_{t+1}
// Returns whitened advantages and returns = A + V (A before whitening). No gradient flows out.
Gae compute_gae(const at::Tensor& rewards, const at::Tensor& values, double gamma, double lam);

}  // namespace rlhf::ppo
