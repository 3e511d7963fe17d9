// From sampled responses to per-token rewards (paper-spec 4.2 and 5): truncation after the first
// truncate token at or past a minimum index, the penalty score for responses without one, the
// per-token KL estimate and the KL-penalized reward.
#pragma once

#include <ATen/ATen.h>

namespace rlhf::ppo {

struct TruncationOptions {
  int truncate_token = -1;  // -1 = no truncation and no penalty
  int truncate_after = 0;   // the first truncate token at an index >= this counts (0-based)
  int pad_id = 50259;       // written after the truncate token
  double penalty_score = -1.0;
};

// Replaces every token after the first truncate token at index >= truncate_after by pad_id (the
// truncate token itself is kept). responses: int64 [B, N] -> int64 [B, N].
at::Tensor truncate_responses(const at::Tensor& responses, const TruncationOptions& options);

// Whether each processed response holds the truncate token at an index >= truncate_after: bool [B]
// (all true when there is no truncate token).
at::Tensor has_truncate_token(const at::Tensor& processed, const TruncationOptions& options);

// The score with the penalty for responses that have no truncate token: fp32 [B] (float64 stays).
at::Tensor apply_penalty(const at::Tensor& score, const at::Tensor& processed, const TruncationOptions& options);

// kl_t = logprob_t - ref_logprob_t on every response token: fp32 [B, N] (float64 for float64 logprobs).
at::Tensor per_token_kl(const at::Tensor& logprobs, const at::Tensor& ref_logprobs);

// r_t = -kl_coef * kl_t, plus the score on the last token: [B, N] in kl's dtype.
at::Tensor kl_penalized_rewards(const at::Tensor& score, const at::Tensor& kl, double kl_coef);

}  // namespace rlhf::ppo
