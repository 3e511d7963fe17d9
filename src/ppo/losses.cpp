#include "rlhf/ppo/losses.h"

namespace rlhf::ppo {

PolicyLoss policy_loss(const at::Tensor& logprobs, const at::Tensor& old_logprobs, const at::Tensor& advantages,
                       double cliprange) {
  TORCH_CHECK(logprobs.sizes() == old_logprobs.sizes() && logprobs.sizes() == advantages.sizes(),
              "policy_loss: logprobs, old_logprobs and advantages must have one shape");
  const at::Tensor log_ratio = logprobs - old_logprobs.detach();
  const at::Tensor ratio = log_ratio.exp();
  const at::Tensor a = advantages.detach();
  const at::Tensor unclipped = -a * ratio;
  const at::Tensor clipped = -a * ratio.clamp(1.0 - cliprange, 1.0 + cliprange);
  PolicyLoss out;
  out.loss = at::max(unclipped, clipped).mean();
  out.clipfrac = clipped.gt(unclipped).to(loss_dtype(clipped)).mean().detach();
  out.approxkl = (0.5 * log_ratio.detach().pow(2)).mean();
  return out;
}

ValueLoss value_loss(const at::Tensor& values, const at::Tensor& old_values, const at::Tensor& returns,
                     double cliprange_value) {
  TORCH_CHECK(values.sizes() == old_values.sizes() && values.sizes() == returns.sizes(),
              "value_loss: values, old_values and returns must have one shape");
  const at::Tensor old = old_values.detach();
  const at::Tensor r = returns.detach();
  const at::Tensor clipped_values = at::max(at::min(values, old + cliprange_value), old - cliprange_value);
  const at::Tensor unclipped_loss = (values - r).pow(2);
  const at::Tensor clipped_loss = (clipped_values - r).pow(2);
  ValueLoss out;
  out.loss = 0.5 * at::max(unclipped_loss, clipped_loss).mean();
  out.clipfrac = clipped_loss.gt(unclipped_loss).to(loss_dtype(clipped_loss)).mean().detach();
  return out;
}

at::Tensor explained_variance_tensor(const at::Tensor& values, const at::Tensor& returns) {
  const at::Tensor r = returns.detach().to(at::kDouble);
  const at::Tensor diff = r - values.detach().to(at::kDouble);
  const at::Tensor var_r = (r - r.mean()).pow(2).mean();
  const at::Tensor var_diff = (diff - diff.mean()).pow(2).mean();
  return 1.0 - var_diff / var_r;
}

double explained_variance(const at::Tensor& values, const at::Tensor& returns) {
  return explained_variance_tensor(values, returns).item<double>();
}

at::Tensor entropy_from_logits(const at::Tensor& logits) {
  const at::Tensor logp = logits.log_softmax(-1);
  return -(logp.exp() * logp).sum(-1);
}

}  // namespace rlhf::ppo
