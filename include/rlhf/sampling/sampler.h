// Batched ancestral sampling from GPT-2 with a KV cache.
// The paper's setting is temperature T, no top-k/top-p, and exactly `max_new_tokens` tokens with no
// stop at end-of-text; stopping at end-of-text is available for other uses.
#pragma once

#include <ATen/ATen.h>

#include "rlhf/model/gpt2.h"

namespace rlhf::sampling {

struct SamplingOptions {
  double temperature = 1.0;  // logits are divided by it; 0 = greedy (argmax)
  int top_k = 0;             // sample among the k most likely tokens; 0 = all
  double top_p = 1.0;        // nucleus: the smallest set with probability >= top_p; 1 = all
  int max_new_tokens = 24;
  bool stop_at_eos = false;  // false: always max_new_tokens tokens (the paper's setting)
  int eos_id = -1;           // end-of-text id; -1 = the model's eos_token_id (50256 for GPT-2)
  int pad_id = 50259;        // fills positions after end-of-text when stop_at_eos is set

  template <class V>
  void visit(V& v) {
    v.field("temperature", temperature, "Logits are divided by it before sampling; 0 = greedy");
    v.field("top_k", top_k, "Sample among the k most likely tokens; 0 = all (the paper)");
    v.field("top_p", top_p, "Nucleus sampling mass; 1 = all (the paper)");
    v.field("max_new_tokens", max_new_tokens, "Tokens to generate per prompt");
    v.field("stop_at_eos", stop_at_eos, "Stop a row at end-of-text; false = fixed length (the paper)");
    v.field("eos_id", eos_id, "End-of-text token id; -1 = the model's eos_token_id");
    v.field("pad_id", pad_id, "Id written after end-of-text (outside the vocabulary; OpenAI's is 50259)");
  }
};

struct Samples {
  at::Tensor tokens;    // int64 [B, N]; positions after an end-of-text token (stop_at_eos) hold pad_id
  at::Tensor logprobs;  // fp32 [B, N]: log-prob of each token under softmax(logits / T) (before top-k/top-p
                        // filtering; for T = 0 under softmax(logits)); 0 at padded positions
  at::Tensor lengths;   // int64 [B]: tokens before the padding (end-of-text included)
};

// Checks the options; throws rlhf::Error naming the bad value.
void validate(const SamplingOptions& options);

// context: int64 [B, Tc], context_mask: [B, Tc] (nonzero = real), both on the model's device. The
// context may be padded anywhere; sampling continues after its last real token, with positions
// continuing from the number of real tokens. Draws from the default generator of the model's device
// (seeded by --seed), so a run is reproducible from the seed.
Samples sample(model::Gpt2Impl& model, const at::Tensor& context, const at::Tensor& context_mask,
               const SamplingOptions& options);

// Chooses the next token from logits [B, V]; returns {tokens int64 [B], logprobs fp32 [B]}.
std::pair<at::Tensor, at::Tensor> choose_next(const at::Tensor& logits, const SamplingOptions& options);

// Log-probability of every token given the tokens before it, under softmax(logits / temperature).
// ids, mask: [B, T]. Returns fp32 [B, T] where column t holds log p(ids[t] | ids[<t]); column 0 and
// pad positions hold 0.
at::Tensor token_logprobs(model::Gpt2Impl& model, const at::Tensor& ids, const at::Tensor& mask, double temperature = 1.0);

}  // namespace rlhf::sampling
