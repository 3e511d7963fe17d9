#include "rlhf/ppo/reward_function.h"

#include "rlhf/util/error.h"

namespace rlhf::ppo {

at::Tensor TokenCountReward::score(const at::Tensor& query, const at::Tensor& response) {
  TORCH_CHECK(response.dim() == 2, "TokenCountReward: response must be [B, Tr]");
  return response.eq(token_).sum(1).to(at::kFloat).to(query.device());
}

void RewardOptions::check() const {
  if (kind == "model" && model_dir.empty()) {
    throw Error(
        "model_dir: reward.kind is \"model\" but no reward model directory is given "
        "(set reward.model_dir, or reward.kind=token_count for a programmatic reward)");
  }
  if (kind == "token_count" && token < 0) {
    throw Error("token: reward.kind is \"token_count\" but no token id is given (set reward.token)");
  }
}

std::unique_ptr<RewardFunction> make_reward_function(const RewardOptions& options, const core::Runtime& runtime,
                                                     int pad_id) {
  options.check();
  if (options.kind == "token_count") return std::make_unique<TokenCountReward>(options.token);
  return load_reward_model_function(options.model_dir, runtime, pad_id);
}

}  // namespace rlhf::ppo
