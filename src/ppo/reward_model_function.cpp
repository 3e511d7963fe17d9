// The RewardFunction backed by a reward model directory (`rlhf train-reward`).
// PLACEHOLDER until include/rlhf/reward/ lands.
#include "rlhf/ppo/reward_function.h"
#include "rlhf/util/error.h"

namespace rlhf::ppo {

std::unique_ptr<RewardFunction> load_reward_model_function(const std::string& dir, const core::Runtime&, int) {
  throw Error("reward.model_dir " + dir + ": reward models are not available in this build yet");
}

}  // namespace rlhf::ppo
