#include "rlhf/ppo/config.h"

#include "rlhf/util/error.h"

namespace rlhf::ppo {

void PpoOptions::check() const {
  if (batch_size % nminibatches != 0) {
    throw Error("nminibatches: " + std::to_string(nminibatches) + " does not divide batch_size " +
                std::to_string(batch_size));
  }
  const auto M = minibatch_size();
  if (microbatch_size > 0 && M % microbatch_size != 0) {
    throw Error("microbatch_size: " + std::to_string(microbatch_size) + " does not divide the minibatch of " +
                std::to_string(M) + " (batch_size / nminibatches)");
  }
  if (whiten_rewards && M < 8) {
    throw Error("whiten_rewards: needs minibatches of at least 8 episodes, got " + std::to_string(M) +
                " (as OpenAI's code asserts; set whiten_rewards=false for small batches)");
  }
}

void TrainPolicyConfig::check() const {
  if (task.truncate_token >= 0 && task.truncate_after >= task.response_length) {
    throw Error("task.truncate_after: " + std::to_string(task.truncate_after) +
                " leaves no room for a truncate token in responses of " + std::to_string(task.response_length) +
                " tokens, so every response would get the penalty");
  }
}

}  // namespace rlhf::ppo
