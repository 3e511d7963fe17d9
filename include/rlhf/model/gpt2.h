// GPT-2 in LibTorch, with the padding semantics of OpenAI's lm-human-preferences code:
//   * pads are never embedded (their ids may be anything, e.g. 50259) and no query attends to them;
//   * position ids are given explicitly (normally the exclusive cumulative sum of the mask), so a
//     sequence padded on the right, on the left or in the middle computes the same values at its
//     real tokens as the unpadded sequence;
//   * the output at a pad position is the output of the last real token before it, so "the last
//     position" always means "the last real token" for the reward and value heads and for sampling.
// Submodules are named like the Hugging Face checkpoint keys (wte, wpe, h.N.ln_1, h.N.attn.c_attn,
// ..., ln_f), and Conv1D weights keep Hugging Face's [in, out] layout, so loading is a copy by name.
// Dropout is off unless set_dropout(p > 0) was called and the module is in training mode: the paper
// trains the reward model and the policy without it; only its supervised baseline (rlhf sft) uses 0.1.
// Where GPT-2 puts it: after the embedding sum, on the attention probabilities, and on each residual
// branch (the attention's and the MLP's c_proj output) before it is added.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "rlhf/model/gpt2_config.h"

namespace rlhf::model {

// Keys and values of every layer for incremental decoding, preallocated to max_length so decoding
// never reallocates. k[l], v[l]: [B, H, max_length, D]; key_is_real: bool [B, max_length].
struct KvCache {
  std::vector<at::Tensor> k, v;
  at::Tensor key_is_real;
  std::int64_t length = 0;  // positions filled so far
  std::int64_t max_length = 0;
};

// Hugging Face's Conv1D: y = x @ weight + bias with weight [in, out].
class Conv1DImpl : public torch::nn::Module {
 public:
  Conv1DImpl(std::int64_t in_features, std::int64_t out_features);
  at::Tensor forward(const at::Tensor& x);  // [..., in] -> [..., out]
  at::Tensor weight, bias;
};
TORCH_MODULE(Conv1D);

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const Gpt2Config& config);
  // x: [B, T, C]; allowed: bool [B, 1, T, L] with L = keys visible (cache length + T).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& allowed, KvCache* cache, int layer);
  Conv1D c_attn{nullptr}, c_proj{nullptr};
  double dropout = 0.0;  // on the attention probabilities, in training mode only

 private:
  std::int64_t n_head_, head_dim_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const Gpt2Config& config);
  at::Tensor forward(const at::Tensor& x);
  Conv1D c_fc{nullptr}, c_proj{nullptr};

 private:
  std::string activation_;
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const Gpt2Config& config);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& allowed, KvCache* cache, int layer);
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
  double dropout = 0.0;  // on both residual branches, in training mode only
};
TORCH_MODULE(Block);

class Gpt2Impl : public torch::nn::Module {
 public:
  explicit Gpt2Impl(Gpt2Config config);

  // ids, positions: int64 [B, T]; mask: [B, T], nonzero = real token. With a cache, the T new
  // tokens follow the cache's `length` tokens and the cache is extended. Returns the final
  // LayerNorm output [B, T, C] with pad positions holding the last earlier real token's output
  // (within this call; pads before any real token keep their own, meaningless, output).
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask, const at::Tensor& positions,
                     KvCache* cache = nullptr);

  // Next-token logits from hidden states: [..., C] -> [..., V] (tied to wte).
  at::Tensor logits(const at::Tensor& hidden);

  KvCache make_cache(std::int64_t batch, std::int64_t max_length) const;

  // GPT-2's initialization for a model trained from scratch: weights and embeddings N(0, stddev) (Hugging
  // Face's initializer_range, 0.02), residual projections (c_proj) scaled by 1/sqrt(2 * n_layer),
  // LayerNorm to identity, biases 0. Draws from the default generator.
  void init_weights(double stddev = 0.02);

  // Dropout rate p in [0, 1) for the embeddings, attention probabilities and residual branches; it acts
  // only in training mode. 0 (the default) leaves every computation exactly as without dropout.
  void set_dropout(double p);
  double dropout() const { return dropout_; }

  const Gpt2Config& config() const { return config_; }
  at::ScalarType dtype() const { return wte->weight.scalar_type(); }
  at::Device device() const { return wte->weight.device(); }

  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::ModuleList h{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};

 private:
  Gpt2Config config_;
  std::vector<Block> blocks_;
  double dropout_ = 0.0;
};
TORCH_MODULE(Gpt2);

// Position ids for a padded batch: the exclusive cumulative sum of the mask. [B, T] -> int64 [B, T].
at::Tensor positions_from_mask(const at::Tensor& mask);

// For each position, the index of the last real token at or before it (its own index where there
// is none). mask: [B, T] -> int64 [B, T].
at::Tensor last_real_index(const at::Tensor& mask);

}  // namespace rlhf::model
