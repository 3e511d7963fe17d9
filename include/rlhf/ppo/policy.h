// The policy of paper-spec 4.1: one GPT-2 trunk with the language-model head (tied to wte) and a
// scalar value head on the same final-LayerNorm hidden states, initialized to zero (weight and bias).
// The reference policy is a separate, frozen GPT-2; both compute log-probabilities from
// logits / temperature.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <filesystem>

#include "rlhf/model/gpt2.h"

namespace rlhf::tokenizer {
class Tokenizer;
}

namespace rlhf::ppo {

// What a forward pass over query + response says about the response tokens.
struct ResponseAnalysis {
  at::Tensor logprobs;  // fp32 (float64 for a float64 model) [B, N]: log p(response_t | context, response_<t) under softmax(logits / T)
  at::Tensor values;    // fp32 [B, N]: V of the state before response_t (undefined without a value head)
  at::Tensor entropy;   // fp32 [B, N]: entropy of softmax(logits / T) (undefined unless requested)
};

// One forward pass of `trunk` over cat(context, response). context: int64 [B, Tc] with context_mask
// [B, Tc] (nonzero = real; pads anywhere); response: int64 [B, N], all real. The outputs at positions
// Tc-1 ... Tc+N-2 predict the response tokens. `v_head` may be null (reference policy).
// Runs with or without autograd, as the caller's mode says.
ResponseAnalysis analyze_responses(model::Gpt2Impl& trunk, torch::nn::LinearImpl* v_head, const at::Tensor& context,
                                   const at::Tensor& context_mask, const at::Tensor& response, double temperature,
                                   bool with_entropy);

class PolicyImpl : public torch::nn::Module {
 public:
  // Wraps a loaded GPT-2 with a new value head at zero (load_policy restores a saved one).
  explicit PolicyImpl(model::Gpt2 trunk);

  ResponseAnalysis analyze(const at::Tensor& context, const at::Tensor& context_mask, const at::Tensor& response,
                           double temperature, bool with_entropy = false);

  // Saves in Hugging Face's layout (GPT2LMHeadModel loads it) with "v_head.weight" [1, C] and
  // "v_head.bias" [1] as extra tensors in model.safetensors.
  void save(const std::filesystem::path& dir, const tokenizer::Tokenizer* tokenizer);

  model::Gpt2 trunk{nullptr};
  torch::nn::Linear v_head{nullptr};
};
TORCH_MODULE(Policy);

// Loads a policy directory: GPT-2 weights plus, when present, "v_head.weight"/"v_head.bias" (a plain
// GPT-2 directory gives a zero value head). fp32 on the CPU.
Policy load_policy(const std::filesystem::path& dir);

}  // namespace rlhf::ppo
