#include "rlhf/ppo/rewards.h"

#include "rlhf/ppo/losses.h"

namespace rlhf::ppo {
namespace {

// Truncate tokens at index >= truncate_after: bool [B, N].
at::Tensor truncate_marks(const at::Tensor& responses, const TruncationOptions& o) {
  const auto N = responses.size(1);
  const at::Tensor index = at::arange(N, responses.options().dtype(at::kLong)).unsqueeze(0);  // [1, N]
  return responses.eq(o.truncate_token).logical_and(index.ge(o.truncate_after));
}

}  // namespace

at::Tensor truncate_responses(const at::Tensor& responses, const TruncationOptions& o) {
  TORCH_CHECK(responses.dim() == 2, "truncate_responses: responses must be [B, N]");
  if (o.truncate_token < 0) return responses.clone();
  const at::Tensor m = truncate_marks(responses, o).to(at::kLong);
  const at::Tensor after_first = (m.cumsum(1) - m).gt(0);  // strictly after the first mark
  return responses.masked_fill(after_first, o.pad_id);
}

at::Tensor has_truncate_token(const at::Tensor& processed, const TruncationOptions& o) {
  if (o.truncate_token < 0) return at::ones({processed.size(0)}, processed.options().dtype(at::kBool));
  return truncate_marks(processed, o).any(1);
}

at::Tensor apply_penalty(const at::Tensor& score, const at::Tensor& processed, const TruncationOptions& o) {
  const at::Tensor valid = has_truncate_token(processed, o).to(score.device());
  const at::ScalarType dtype = loss_dtype(score);
  return at::where(valid, score.to(dtype), at::full_like(score, o.penalty_score, dtype));
}

at::Tensor per_token_kl(const at::Tensor& logprobs, const at::Tensor& ref_logprobs) {
  TORCH_CHECK(logprobs.sizes() == ref_logprobs.sizes(), "per_token_kl: logprobs and ref_logprobs differ in shape");
  const at::ScalarType dtype = loss_dtype(logprobs);
  return logprobs.to(dtype) - ref_logprobs.to(dtype);
}

at::Tensor kl_penalized_rewards(const at::Tensor& score, const at::Tensor& kl, double kl_coef) {
  TORCH_CHECK(kl.dim() == 2 && score.dim() == 1 && score.size(0) == kl.size(0),
              "kl_penalized_rewards: score must be [B] and kl [B, N]");
  at::Tensor rewards = -kl_coef * kl;
  const auto N = kl.size(1);
  rewards.select(1, N - 1).add_(score.to(rewards.scalar_type()));
  return rewards;
}

}  // namespace rlhf::ppo
