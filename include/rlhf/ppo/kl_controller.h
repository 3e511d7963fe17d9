// The KL coefficient beta (paper-spec 4.2): fixed, or adaptive as OpenAI's AdaptiveKLController:
//   e = clip(KL / target - 1, -0.2, 0.2);  beta <- beta * (1 + e * n_steps / horizon)
// updated once per PPO batch, after training, with the batch mean of the per-episode summed KL and
// n_steps = episodes per PPO batch.
#pragma once

#include <nlohmann/json.hpp>

#include "rlhf/config/constraints.h"

namespace rlhf::ppo {

struct KlOptions {
  double kl_coef = 0.15;     // initial beta (books 0.15, cnndm 0.01, tldr 0.03)
  bool adaptive = true;      // books: adaptive; summarization: fixed
  double target = 6.0;       // target KL in nats (sum over the response)
  double horizon = 10000.0;  // episodes over which the error is corrected

  template <class V>
  void visit(V& v) {
    v.field("kl_coef", kl_coef, "Initial KL coefficient beta (books 0.15, cnndm 0.01, tldr 0.03)",
            config::Range::at_least(0.0));
    v.field("adaptive", adaptive, "Adapt beta towards the target KL (books: true; summarization: false)");
    v.field("target", target, "Target KL in nats, summed over the response (books 6)",
            config::Range::greater_than(0.0));
    v.field("horizon", horizon, "Adaptive horizon in episodes (10000)", config::Range::greater_than(0.0));
  }
};

class KlController {
 public:
  explicit KlController(const KlOptions& options) : options_(options), value_(options.kl_coef) {}

  double value() const { return value_; }
  // kl: mean over the batch of the summed per-token KL; n_steps: episodes in the batch.
  void update(double kl, double n_steps);

  // {"adaptive": bool, "value": beta}: the state a checkpoint needs.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  KlOptions options_;
  double value_;
};

}  // namespace rlhf::ppo
