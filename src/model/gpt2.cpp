#include "rlhf/model/gpt2.h"

#include <torch/nn/init.h>

#include <cmath>

#include "rlhf/core/torch_compat.h"
#include "rlhf/util/error.h"

namespace rlhf::model {
namespace nn = torch::nn;

Conv1DImpl::Conv1DImpl(std::int64_t in_features, std::int64_t out_features) {
  weight = register_parameter("weight", at::empty({in_features, out_features}));
  bias = register_parameter("bias", at::zeros({out_features}));
  nn::init::normal_(weight, 0.0, 0.02);
}

at::Tensor Conv1DImpl::forward(const at::Tensor& x) {
  const auto out_features = weight.size(1);
  std::vector<std::int64_t> out_shape(x.sizes().begin(), x.sizes().end());
  out_shape.back() = out_features;
  return at::addmm(bias, x.reshape({-1, x.size(-1)}), weight).view(out_shape);
}

AttentionImpl::AttentionImpl(const Gpt2Config& config)
    : n_head_(config.n_head), head_dim_(config.head_dim()) {
  c_attn = register_module("c_attn", Conv1D(config.n_embd, 3 * config.n_embd));
  c_proj = register_module("c_proj", Conv1D(config.n_embd, config.n_embd));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& allowed, KvCache* cache, int layer) {
  const auto B = x.size(0), T = x.size(1), C = x.size(2);
  // [B, T, 3C] -> three [B, H, T, D]
  auto qkv = c_attn(x).view({B, T, 3, n_head_, head_dim_}).permute({2, 0, 3, 1, 4});
  at::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
  if (cache != nullptr) {
    const auto start = cache->length;
    cache->k[layer].narrow(2, start, T).copy_(k);
    cache->v[layer].narrow(2, start, T).copy_(v);
    k = cache->k[layer].narrow(2, 0, start + T);  // [B, H, L, D]
    v = cache->v[layer].narrow(2, 0, start + T);
  }
  const double p = is_training() ? dropout : 0.0;
  at::Tensor y = compat::attention(q, k, v, allowed, p);  // [B, H, T, D]
  return c_proj(y.transpose(1, 2).reshape({B, T, C}));
}

MlpImpl::MlpImpl(const Gpt2Config& config) : activation_(config.activation_function) {
  c_fc = register_module("c_fc", Conv1D(config.n_embd, config.mlp_width()));
  c_proj = register_module("c_proj", Conv1D(config.mlp_width(), config.n_embd));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  at::Tensor hidden = c_fc(x);
  if (activation_ == "relu") {
    hidden = at::relu(hidden);
  } else if (activation_ == "gelu") {
    hidden = at::gelu(hidden);  // exact (erf) GELU
  } else {
    hidden = at::gelu(hidden, "tanh");  // GPT-2's gelu_new: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
  }
  return c_proj(hidden);
}

BlockImpl::BlockImpl(const Gpt2Config& config) {
  const auto ln_options = nn::LayerNormOptions({config.n_embd}).eps(config.layer_norm_epsilon);
  ln_1 = register_module("ln_1", nn::LayerNorm(ln_options));
  attn = register_module("attn", Attention(config));
  ln_2 = register_module("ln_2", nn::LayerNorm(ln_options));
  mlp = register_module("mlp", Mlp(config));
}

at::Tensor BlockImpl::forward(const at::Tensor& x, const at::Tensor& allowed, KvCache* cache, int layer) {
  if (!is_training() || dropout <= 0.0) {
    at::Tensor out = x + attn(ln_1(x), allowed, cache, layer);
    return out + mlp(ln_2(out));
  }
  at::Tensor out = x + at::dropout(attn(ln_1(x), allowed, cache, layer), dropout, /*train=*/true);
  return out + at::dropout(mlp(ln_2(out)), dropout, /*train=*/true);
}

Gpt2Impl::Gpt2Impl(Gpt2Config config) : config_(std::move(config)) {
  wte = register_module("wte", nn::Embedding(config_.vocab_size, config_.n_embd));
  wpe = register_module("wpe", nn::Embedding(config_.n_positions, config_.n_embd));
  h = register_module("h", nn::ModuleList());
  for (int i = 0; i < config_.n_layer; ++i) {
    blocks_.push_back(Block(config_));
    h->push_back(blocks_.back());
  }
  ln_f = register_module("ln_f", nn::LayerNorm(nn::LayerNormOptions({config_.n_embd}).eps(config_.layer_norm_epsilon)));
  init_weights();
}

void Gpt2Impl::init_weights(double stddev) {
  at::NoGradGuard no_grad;
  const double residual_std = stddev / std::sqrt(2.0 * config_.n_layer);
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& p = item.value();
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (name.find("ln_") != std::string::npos) {
      is_bias ? p.zero_() : p.fill_(1.0);
    } else if (is_bias) {
      p.zero_();
    } else if (name.find("c_proj.weight") != std::string::npos) {
      p.normal_(0.0, residual_std);
    } else {
      p.normal_(0.0, stddev);
    }
  }
}

void Gpt2Impl::set_dropout(double p) {
  if (!(p >= 0.0 && p < 1.0)) throw Error("dropout must be in [0, 1), got " + std::to_string(p));
  dropout_ = p;
  for (auto& block : blocks_) {
    block->dropout = p;
    block->attn->dropout = p;
  }
}

KvCache Gpt2Impl::make_cache(std::int64_t batch, std::int64_t max_length) const {
  if (max_length > config_.n_positions) {
    throw Error("sequence of " + std::to_string(max_length) + " tokens exceeds the model's context of " +
                std::to_string(config_.n_positions));
  }
  KvCache cache;
  const auto options = wte->weight.options().requires_grad(false);
  for (int l = 0; l < config_.n_layer; ++l) {
    cache.k.push_back(at::empty({batch, config_.n_head, max_length, config_.head_dim()}, options));
    cache.v.push_back(at::empty({batch, config_.n_head, max_length, config_.head_dim()}, options));
  }
  cache.key_is_real = at::zeros({batch, max_length}, options.dtype(at::kBool));
  cache.max_length = max_length;
  return cache;
}

namespace {

// Which keys each query may attend to: causal, never a pad key, and always itself (so a pad query
// has one allowed key and no row is all -inf; its output is replaced anyway).
// key_is_real: bool [B, L]; the T queries are the last T of the L keys. Returns bool [B, 1, T, L].
at::Tensor attention_allowed(const at::Tensor& key_is_real, std::int64_t T) {
  const auto L = key_is_real.size(1);
  const auto options = key_is_real.options().dtype(at::kLong);
  const at::Tensor query_index = at::arange(L - T, L, options).view({T, 1});
  const at::Tensor key_index = at::arange(0, L, options).view({1, L});
  const at::Tensor causal = key_index.le(query_index);          // [T, L]
  const at::Tensor self = key_index.eq(query_index);            // [T, L]
  return causal.logical_and(key_is_real.view({-1, 1, 1, L})).logical_or(self);  // [B, 1, T, L]
}

}  // namespace

at::Tensor positions_from_mask(const at::Tensor& mask) {
  const at::Tensor m = mask.to(at::kLong);
  return m.cumsum(1) - m;
}

at::Tensor last_real_index(const at::Tensor& mask) {
  const auto T = mask.size(1);
  const at::Tensor index = at::arange(T, mask.options().dtype(at::kLong)).expand(mask.sizes());
  const at::Tensor real = mask.to(at::kBool);
  // -1 where pad, then a running maximum: the latest real index so far.
  const at::Tensor latest = std::get<0>(at::where(real, index, at::full_like(index, -1)).cummax(1));
  return at::where(latest.ge(0), latest, index);
}

at::Tensor Gpt2Impl::forward(const at::Tensor& ids, const at::Tensor& mask, const at::Tensor& positions, KvCache* cache) {
  TORCH_CHECK(ids.dim() == 2 && mask.sizes() == ids.sizes() && positions.sizes() == ids.sizes(),
              "Gpt2::forward: ids, mask and positions must all be [B, T]");
  const auto T = ids.size(1);
  const at::Tensor real = mask.to(at::kBool);
  // Pads are never embedded (their id may be outside the vocabulary): look up token 0 instead.
  const at::Tensor safe_ids = ids.masked_fill(real.logical_not(), 0);
  at::Tensor x = wte(safe_ids) + wpe(positions);  // [B, T, C]
  if (is_training() && dropout_ > 0.0) x = at::dropout(x, dropout_, /*train=*/true);

  at::Tensor key_is_real = real;
  if (cache != nullptr) {
    TORCH_CHECK(cache->length + T <= cache->max_length, "KV cache overflow");
    cache->key_is_real.narrow(1, cache->length, T).copy_(real);
    key_is_real = cache->key_is_real.narrow(1, 0, cache->length + T);
  }
  const at::Tensor allowed = attention_allowed(key_is_real, T);
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    x = blocks_[l]->forward(x, allowed, cache, static_cast<int>(l));
  }
  if (cache != nullptr) cache->length += T;
  x = ln_f(x);
  // Replace each pad's output by the last real token's: [B, T] -> gather along T.
  const at::Tensor source = last_real_index(real);
  return x.gather(1, source.unsqueeze(-1).expand_as(x));
}

at::Tensor Gpt2Impl::logits(const at::Tensor& hidden) { return at::matmul(hidden, wte->weight.t()); }

}  // namespace rlhf::model
