// The reward model (paper-spec section 3): its own GPT-2 trunk, initialised from the pretrained model,
// a linear head on the final layer-norm output read at the last real token, and a scalar gain and bias
// (trainable, then set by normalisation):  reward = gain * head(h_last) + bias.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "rlhf/model/gpt2.h"

namespace rlhf::tokenizer {
class Tokenizer;
}

namespace rlhf::reward {

class RewardModelImpl : public torch::nn::Module {
 public:
  explicit RewardModelImpl(model::Gpt2 trunk);

  // Head weight ~ N(0, 1/sqrt(n_embd + 1)), bias 0, gain 1, reward bias 0 (the paper's fc_layer init).
  void init_head();

  // ids, mask: [B, T] (mask nonzero = real; pads anywhere, never embedded; positions are the exclusive
  // cumulative sum of the mask). Returns fp32 rewards [B], read at each row's last real token (a row
  // with none gives a meaningless value). T may exceed the context when the real tokens fit; a row
  // with more real tokens than the context throws rlhf::Error.
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask);

  // Rewards of (query, response) pairs: the concatenation, with every id equal to pad_id or outside
  // the vocabulary masked. query: [B, Tq], response: [B, Tr] int64. Returns fp32 [B].
  at::Tensor score(const at::Tensor& query, const at::Tensor& response, std::int64_t pad_id);

  // Sets gain and bias so that rewards with this raw mean and population std map to mean 0, std 1.
  void set_normalization(double raw_mean, double raw_std);
  void reset_normalization();

  model::Gpt2 trunk{nullptr};
  torch::nn::Linear head{nullptr};  // [C] -> [1]
  at::Tensor gain, bias;            // scalars
};
TORCH_MODULE(RewardModel);

// Softmax cross-entropy of the labelers' choices: rewards [B, N], best int64 [B]. Mean over B.
at::Tensor comparison_loss(const at::Tensor& rewards, const at::Tensor& best);

// A new reward model from a pretrained GPT-2 directory, head initialised (draws from the default
// generator, so it follows --seed).
RewardModel make_reward_model(const std::filesystem::path& pretrained_dir);

// Writes a reward-model directory: config.json, model.safetensors (trunk with the "transformer." prefix
// plus reward_head.weight [1, C], reward_head.bias [1], reward_gain [], reward_bias []), the tokenizer
// files, and reward_model.json (`info`, plus the format version). Atomic: staged, then swapped in.
// `extra_files` (name -> contents, e.g. metrics and the resolved configuration) go into the same directory.
void save_reward_model(RewardModelImpl& model, const std::filesystem::path& dir, const tokenizer::Tokenizer& tokenizer,
                       nlohmann::json info, const std::map<std::string, std::string>& extra_files = {});

// Reads a directory written by save_reward_model (fp32, CPU, eval mode). Throws rlhf::Error naming the
// file for a missing or malformed reward_model.json or missing head tensors. `info` receives the json.
RewardModel load_reward_model(const std::filesystem::path& dir, nlohmann::json* info = nullptr);

}  // namespace rlhf::reward
