// Rollouts (paper-spec 5): queries from the dataset, fixed-length responses sampled with the KV cache,
// one no-gradient forward of the policy for log-probabilities and values, one of the reference
// policy, truncation and the reward function's score with the penalty.
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <vector>

#include "rlhf/core/precision.h"
#include "rlhf/data/queries.h"
#include "rlhf/ppo/policy.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/ppo/rewards.h"

namespace rlhf::ppo {

// Rows of the query dataset as tensors on `device`.
struct QueryBatch {
  at::Tensor query;         // int64 [B, Tq]: raw padded queries (the reward function's input)
  at::Tensor context;       // int64 [B, Tc]: prefix + padded query + suffix (the policy's input)
  at::Tensor context_mask;  // bool [B, Tc]: true at real tokens
};
QueryBatch make_query_batch(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                            const at::Device& device);

struct RolloutOptions {
  int response_length = 24;
  double temperature = 0.7;
  TruncationOptions truncation;
  int rollout_batch_size = 0;   // rows sampled together; 0 = all
  int forward_batch_size = 64;  // rows per no-gradient forward
  // Autocast of sampling and of the policy's and reference's forwards: the training passes' precision,
  // so the PPO ratio starts at 1 and the KL at 0 (the reward function keeps its own precision).
  core::TrainPrecision precision;
};

struct Rollout {
  QueryBatch queries;
  at::Tensor response;      // int64 [B, N] as sampled (PPO trains on these)
  at::Tensor processed;     // int64 [B, N] truncated (the reward function scored these)
  at::Tensor logprobs;      // fp32 [B, N] policy, temperature-scaled
  at::Tensor values;        // fp32 [B, N] value head, states before each token
  at::Tensor ref_logprobs;  // fp32 [B, N] reference policy, temperature-scaled
  at::Tensor raw_score;     // fp32 [B] the reward function's output
  at::Tensor score;         // fp32 [B] with the penalty applied
};

// Seconds spent in each phase (device work waited for).
struct RolloutTimes {
  double sample = 0, policy = 0, reference = 0, reward = 0;
};

// Everything runs without autograd. The reference may be in a lower precision than the policy.
Rollout generate_rollout(PolicyImpl& policy, model::Gpt2Impl& reference, RewardFunction& reward,
                         const QueryBatch& queries, const RolloutOptions& options, RolloutTimes* times = nullptr);

}  // namespace rlhf::ppo
