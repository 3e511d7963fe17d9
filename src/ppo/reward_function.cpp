#include "rlhf/ppo/reward_function.h"

#include "rlhf/labelers/labeler.h"
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
  if (kind == "lexicon" && lexicon.empty()) {
    throw Error("lexicon: reward.kind is \"lexicon\" but no lexicon file is given (set reward.lexicon)");
  }
}

std::unique_ptr<RewardFunction> make_reward_function(const RewardOptions& options, const core::Runtime& runtime,
                                                     int pad_id,
                                                     std::shared_ptr<const tokenizer::Tokenizer> tokenizer) {
  options.check();
  if (options.kind == "token_count") return std::make_unique<TokenCountReward>(options.token);
  if (options.kind == "lexicon") {
    labelers::LabelerOptions labeler;
    labeler.kind = "lexicon";
    labeler.lexicon = options.lexicon;
    return labelers::make_labeler_reward(labeler, runtime, pad_id, std::move(tokenizer));
  }
  return load_reward_model_function(options.model_dir, runtime, pad_id);
}

}  // namespace rlhf::ppo
