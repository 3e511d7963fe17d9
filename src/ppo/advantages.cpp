#include "rlhf/ppo/advantages.h"

#include <vector>

namespace rlhf::ppo {

at::Tensor whiten(const at::Tensor& x, bool shift_mean) {
  const at::Tensor mean = x.mean();
  const at::Tensor var = (x - mean).pow(2).mean();  // biased, like tf.nn.moments
  at::Tensor out = (x - mean) * at::rsqrt(var + 1e-8);
  if (!shift_mean) out = out + mean;
  return out;
}

Gae compute_gae(const at::Tensor& rewards, const at::Tensor& values, double gamma, double lam) {
  TORCH_CHECK(rewards.dim() == 2 && rewards.sizes() == values.sizes(),
              "compute_gae: rewards and values must both be [B, N], got ", rewards.sizes(), " and ", values.sizes());
  at::NoGradGuard no_grad;
  const auto N = rewards.size(1);
  const at::Tensor v = values.detach();
  std::vector<at::Tensor> reversed;
  reversed.reserve(N);
  at::Tensor last = at::zeros_like(rewards.select(1, 0));  // A_{t+1}, [B]
  for (std::int64_t t = N - 1; t >= 0; --t) {
    const at::Tensor next_value = t + 1 < N ? v.select(1, t + 1) : at::zeros_like(last);
    const at::Tensor delta = rewards.select(1, t) + gamma * next_value - v.select(1, t);
    last = delta + gamma * lam * last;
    reversed.push_back(last);
  }
  std::vector<at::Tensor> ordered(reversed.rbegin(), reversed.rend());
  const at::Tensor advantages = at::stack(ordered, 1);  // [B, N]
  return {whiten(advantages), advantages + v};
}

}  // namespace rlhf::ppo
