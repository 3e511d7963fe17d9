// `rlhf bench`: forward and sampling throughput of a GPT-2 at a given batch shape.
#pragma once

#include <nlohmann/json.hpp>

#include "rlhf/model/gpt2.h"

namespace rlhf::sampling {

struct BenchOptions {
  int batch_size = 16;
  int prompt_length = 64;
  int new_tokens = 24;
  int iterations = 3;  // timed repetitions; the median is reported
  int warmup = 1;      // untimed repetitions first
  double temperature = 0.7;
};

// Times (1) a full forward pass with logits over prompt_length + new_tokens tokens, as the reference
// policy does in PPO, and (2) sampling new_tokens tokens after prompt_length-token prompts with the
// KV cache. Prompts are random token ids. Returns a JSON object with tokens/s, milliseconds and the peak
// memory of each part (core::peak_memory: the CUDA allocator's peaks, reset before each part; on the
// CPU the resident set size and the process's peak, which cannot be reset).
nlohmann::json run_benchmark(model::Gpt2Impl& model, const BenchOptions& options);

}  // namespace rlhf::sampling
