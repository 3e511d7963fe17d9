// PPO throughput: whole PPO batches (rollout, reference, reward, four epochs of training) on a
// randomly initialized GPT-2 of a given shape, with a reward model of the same shape (a GPT-2 trunk
// and a scalar head read at the last real token, as `rlhf train-reward` makes), so the numbers stand
// for the paper's setup without any files. For `rlhf bench --ppo`.
#pragma once

#include <nlohmann/json.hpp>

#include "rlhf/core/runtime.h"
#include "rlhf/model/gpt2_config.h"

namespace rlhf::ppo {

struct BenchmarkOptions {
  int batch_size = 64;    // episodes per PPO batch
  int query_length = 64;  // padded query tokens (real lengths drawn between half and all of it)
  int response_length = 24;
  int microbatch_size = 0;  // 0 = the whole minibatch
  int nminibatches = 1;
  int noptepochs = 4;
  int batches = 2;           // timed PPO batches
  int warmup = 1;            // untimed PPO batches first (the first one also runs the preflight guard)
  bool reward_model = true;  // false: the token-count reward (no reward-model forward)
  // The timed batches forbid host synchronisation in the rollout and minibatch loops
  // (PpoTrainer::forbid_host_sync: on CUDA a synchronising call there throws).
  bool forbid_sync = false;
};

// Returns {"model": {...}, "options": {...}, "episodes_per_s", "tokens_per_s", "seconds_per_batch",
// "breakdown_s": {sample, policy, reference, reward, train, other}, "breakdown_fraction": {...},
// "peak_memory": core::peak_memory_json over the timed batches}, the times being means over the timed batches. The reference and reward model run in runtime.precision.
nlohmann::ordered_json benchmark(const model::Gpt2Config& config, const BenchmarkOptions& options,
                                 const core::Runtime& runtime);

}  // namespace rlhf::ppo
