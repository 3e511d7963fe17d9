// Measuring a policy the way PPO sees it (paper-spec 4.2, 5, 6): on a fixed set of queries, sample
// responses at the task temperature, truncate them, score them, and estimate the KL to the reference
// policy. Every policy evaluated with the same seed sees the same queries and the same random
// numbers, so "before" and "after" differ only by the policy.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "rlhf/data/queries.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/ppo/policy.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/ppo/rewards.h"

namespace rlhf::tokenizer {
class Tokenizer;
}

namespace rlhf::eval {

// Mean, population std and standard error of the mean of a sample.
struct Stats {
  double mean = 0, std = 0, stderr_mean = 0;
  std::size_t count = 0;
};
Stats stats_of(const std::vector<double>& values);
nlohmann::ordered_json to_json(const Stats& s);

struct EvalOptions {
  int response_length = 24;
  double temperature = 0.7;
  ppo::TruncationOptions truncation;
  int batch_size = 64;     // rows sampled together
  int samples_shown = 3;   // texts kept for display
  std::uint64_t seed = 1;  // the same for every policy compared
  bool keep_responses = false;  // decode every truncated response (PolicyEvaluation::responses), e.g. for ROUGE
};

struct Sample {
  std::string query;     // decoded raw query (pads dropped)
  std::string response;  // decoded truncated response
  double score = 0;      // after the penalty
};

struct PolicyEvaluation {
  Stats score;      // the reward function's score after the truncation penalty (what PPO maximises)
  Stats raw_score;  // before the penalty
  std::vector<std::pair<std::string, Stats>> extra;  // other scorers (e.g. the mock labeler), on the same responses
  Stats kl;         // per episode: sum over the response of log pi - log rho (temperature-scaled)
  Stats entropy;    // per episode: sum over the response of the policy's entropy
  double penalized_fraction = 0;  // responses without a truncate token in the window
  double truncated_fraction = 0;  // responses cut after a truncate token (tokens after it dropped)
  double mean_length = 0;         // real tokens of the truncated responses
  Stats length;                   // the same, with its spread
  std::vector<Sample> samples;
  std::vector<std::string> responses;  // keep_responses: every truncated response, in the order of `indices`
  nlohmann::ordered_json to_json() const;
};

// The queries evaluations use: the last `n` (at most all) of the dataset's order, the ones `rlhf train`
// holds out (its PPO batches start at the front).
std::vector<std::size_t> held_out_indices(const data::QueryDataset& queries, std::size_t n);

// The text of one row of token ids (int64 [T], any device), pads and ids outside the vocabulary dropped;
// a token cut mid-character becomes U+FFFD.
std::string decode_without_pads(const at::Tensor& row, int pad_id, const tokenizer::Tokenizer& tokenizer);

// Evaluates `policy` on queries[indices]. `reward` is what PPO maximises; `extra` are reported beside it.
PolicyEvaluation evaluate_policy(ppo::PolicyImpl& policy, model::Gpt2Impl& reference, ppo::RewardFunction& reward,
                                 const std::vector<std::pair<std::string, ppo::RewardFunction*>>& extra,
                                 const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                 const EvalOptions& options, const tokenizer::Tokenizer* tokenizer);

}  // namespace rlhf::eval
