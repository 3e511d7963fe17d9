#include "rlhf/sampling/sampler.h"

#include <ATen/core/Generator.h>

#include <limits>

#include "rlhf/util/error.h"

namespace rlhf::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Keeps the k largest logits per row. logits: fp32 [B, V].
at::Tensor filter_top_k(const at::Tensor& logits, int k) {
  if (k <= 0 || k >= logits.size(-1)) return logits;
  const at::Tensor kth = std::get<0>(logits.topk(k, -1)).narrow(-1, k - 1, 1);  // [B, 1]
  return logits.masked_fill(logits.lt(kth), kNegInf);
}

// Keeps the smallest set of most likely tokens whose probability reaches p (at least one token).
at::Tensor filter_top_p(const at::Tensor& logits, double p) {
  if (p >= 1.0) return logits;
  auto sorted = logits.sort(-1, /*descending=*/true);
  const at::Tensor& sorted_logits = std::get<0>(sorted);
  const at::Tensor& order = std::get<1>(sorted);
  const at::Tensor probs = sorted_logits.softmax(-1);
  // A token is dropped when the mass before it already reaches p.
  const at::Tensor mass_before = probs.cumsum(-1) - probs;
  const at::Tensor drop_sorted = mass_before.ge(p);
  const at::Tensor drop = at::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
  return logits.masked_fill(drop, kNegInf);
}

}  // namespace

void validate(const SamplingOptions& o) {
  if (!(o.temperature >= 0.0) || o.temperature > 1e6) {
    throw Error("temperature: must be >= 0 (0 = greedy), got " + std::to_string(o.temperature));
  }
  if (o.top_k < 0) throw Error("top_k: must be >= 0 (0 = off), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) throw Error("top_p: must be in (0, 1], got " + std::to_string(o.top_p));
  if (o.max_new_tokens < 1) throw Error("max_new_tokens: must be >= 1, got " + std::to_string(o.max_new_tokens));
}

std::pair<at::Tensor, at::Tensor> choose_next(const at::Tensor& raw_logits, const SamplingOptions& o) {
  const at::Tensor logits = raw_logits.to(at::kFloat);  // [B, V]
  if (o.temperature == 0.0) {
    const at::Tensor token = logits.argmax(-1);
    const at::Tensor logprob = logits.log_softmax(-1).gather(-1, token.unsqueeze(-1)).squeeze(-1);
    return {token, logprob};
  }
  const at::Tensor scaled = logits / o.temperature;
  const at::Tensor filtered = filter_top_p(filter_top_k(scaled, o.top_k), o.top_p);
  // Exponential race: argmax(p / E) with E ~ Exp(1) draws from p. Unlike multinomial it needs no
  // host synchronisation, which matters for decoding on a GPU.
  const at::Tensor probs = filtered.softmax(-1);
  const at::Tensor race = at::empty_like(probs).exponential_(1.0, c10::optional<at::Generator>());
  const at::Tensor token = probs.div(race).argmax(-1);
  const at::Tensor logprob = scaled.log_softmax(-1).gather(-1, token.unsqueeze(-1)).squeeze(-1);
  return {token, logprob};
}

Samples sample(model::Gpt2Impl& model, const at::Tensor& context, const at::Tensor& context_mask,
               const SamplingOptions& o) {
  validate(o);
  at::NoGradGuard no_grad;
  const auto B = context.size(0), Tc = context.size(1), N = static_cast<std::int64_t>(o.max_new_tokens);
  const int eos_id = o.eos_id >= 0 ? o.eos_id : model.config().eos_token_id;
  model::KvCache cache = model.make_cache(B, Tc + N);

  const at::Tensor mask = context_mask.to(at::kBool);
  at::Tensor positions = model::positions_from_mask(mask);
  // Pads after the last real token see that token's output, so the last column predicts the next token.
  at::Tensor hidden = model.forward(context, mask, positions, &cache).select(1, Tc - 1);  // [B, C]
  at::Tensor next_position = mask.sum(1, /*keepdim=*/true, at::kLong);                  // [B, 1]

  const auto long_options = context.options().dtype(at::kLong);
  at::Tensor tokens = at::full({B, N}, o.pad_id, long_options);
  at::Tensor logprobs = at::zeros({B, N}, context.options().dtype(at::kFloat));
  at::Tensor finished = at::zeros({B}, long_options.dtype(at::kBool));
  at::Tensor lengths = at::full({B}, N, long_options);
  const at::Tensor ones = at::ones({B, 1}, long_options.dtype(at::kBool));

  for (std::int64_t i = 0; i < N; ++i) {
    auto [token, logprob] = choose_next(model.logits(hidden), o);
    if (o.stop_at_eos) {
      token.masked_fill_(finished, o.pad_id);
      logprob.masked_fill_(finished, 0.0f);
    }
    tokens.select(1, i).copy_(token);
    logprobs.select(1, i).copy_(logprob);
    if (o.stop_at_eos) {
      const at::Tensor ends_now = token.eq(eos_id).logical_and(finished.logical_not());
      lengths.masked_fill_(ends_now, i + 1);
      finished.logical_or_(ends_now);
      if (finished.all().item<bool>()) break;  // one sync per token, only in this mode
    }
    if (i + 1 == N) break;
    // A finished row keeps decoding a real-looking token (the pad is re-masked above); this keeps
    // the batch rectangular and costs nothing extra.
    const at::Tensor step_ids = token.masked_fill(finished, 0).unsqueeze(1);  // [B, 1]
    hidden = model.forward(step_ids, ones, next_position + i, &cache).select(1, 0);
  }
  return {tokens, logprobs, lengths};
}

at::Tensor token_logprobs(model::Gpt2Impl& model, const at::Tensor& ids, const at::Tensor& mask, double temperature) {
  at::NoGradGuard no_grad;
  if (!(temperature > 0.0)) throw Error("temperature: must be > 0 for log-probabilities, got " + std::to_string(temperature));
  const at::Tensor real = mask.to(at::kBool);
  const at::Tensor hidden = model.forward(ids, real, model::positions_from_mask(real));  // [B, T, C]
  const auto T = ids.size(1);
  at::Tensor out = at::zeros(ids.sizes(), ids.options().dtype(at::kFloat));
  if (T < 2) return out;
  // Position t-1's output predicts token t; a pad before t holds the last real token's output.
  const at::Tensor logits = model.logits(hidden.narrow(1, 0, T - 1)).to(at::kFloat) / temperature;  // [B, T-1, V]
  const at::Tensor targets = ids.narrow(1, 1, T - 1).masked_fill(real.narrow(1, 1, T - 1).logical_not(), 0);
  const at::Tensor lp = logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);  // [B, T-1]
  // Only real tokens with a real token somewhere before them have a log-probability.
  const at::Tensor has_context = (real.to(at::kLong).cumsum(1) - real.to(at::kLong)).gt(0);
  const at::Tensor valid = real.logical_and(has_context).narrow(1, 1, T - 1);
  out.narrow(1, 1, T - 1).copy_(lp.masked_fill(valid.logical_not(), 0.0f));
  return out;
}

}  // namespace rlhf::sampling
