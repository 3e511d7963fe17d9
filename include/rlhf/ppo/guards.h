// Guards against the failure the paper's section 4.4 tells of: a refactor flipped the sign of the
// reward and of the KL penalty, and a run optimized overnight for the opposite of what was meant.
// Three independent checks (docs/ppo.md explains what each catches), each throwing GuardError:
//   1. check_rewards: every batch, the rewards passed to GAE are recomputed in double precision from
//      the score, beta and the two log-probability tensors, away from the code that built them;
//   2. preflight: before the first update, the update direction (minus the gradient of the full
//      PPO loss) must have a positive inner product with the gradient of sum(A * logp), computed
//      separately, so the step raises high-advantage tokens' log-probabilities;
//   3. TrendMonitor: over a window of batches, a significantly falling score while the KL rises
//      significantly stops the run.
#pragma once

#include <ATen/ATen.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <string>

#include "rlhf/util/error.h"

namespace rlhf::ppo {

class GuardError : public Error {
 public:
  using Error::Error;
};

// Throws GuardError unless rewards == -kl_coef * (logprobs - ref_logprobs), with `score` added on
// the last token, to a relative tolerance. All tensors [B, N] except score [B].
void check_rewards(const at::Tensor& rewards, const at::Tensor& score, const at::Tensor& logprobs,
                   const at::Tensor& ref_logprobs, double kl_coef, std::int64_t batch);

// Cosine of the angle between two gradients given as lists of tensors (undefined entries are zeros).
double gradient_cosine(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b);

// A least-squares slope of y against 0, 1, ..., n-1 and its t-statistic (0 when n < 3).
struct Slope {
  double slope = 0.0;
  double t = 0.0;
};
Slope slope_t(const std::deque<double>& y);

// Watches (score mean, KL) per batch; throws GuardError when, over the last `window` batches, the
// score's slope has t < -t_threshold and the KL's slope has t > +t_threshold.
class TrendMonitor {
 public:
  TrendMonitor(int window, double t_threshold) : window_(window), t_(t_threshold) {}
  void add(double score, double kl, std::int64_t batch);

  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  int window_;
  double t_;
  std::deque<double> scores_, kls_;
};

}  // namespace rlhf::ppo
