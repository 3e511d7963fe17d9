// Sampling both policies of a comparison on the same queries and scoring them with the judge, the way
// a PPO rollout does (ppo/rollout.cpp): fixed-length sampling, truncation, the penalty.
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>

#include "rlhf/core/torch_compat.h"
#include "rlhf/eval/compare.h"
#include "rlhf/ppo/rollout.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"

namespace rlhf::eval {
namespace {

// Each index repeated samples_per_query times: row q * n + k is query q's k-th draw.
std::vector<std::size_t> repeated_rows(const std::vector<std::size_t>& indices, int samples_per_query) {
  std::vector<std::size_t> rows;
  for (std::size_t i : indices) rows.insert(rows.end(), static_cast<std::size_t>(samples_per_query), i);
  return rows;
}

}  // namespace

PolicyResponses sample_responses(model::Gpt2Impl& policy, const data::QueryDataset& queries,
                                 const std::vector<std::size_t>& indices, const CompareOptions& options) {
  if (options.samples_per_query < 1 || options.batch_size < 1) {
    throw Error("compare: samples_per_query and batch_size must be at least 1");
  }
  torch::NoGradGuard no_grad;
  compat::manual_seed(options.seed);
  const at::Device device = policy.wte->weight.device();
  sampling::SamplingOptions sampling;
  sampling.temperature = options.temperature;
  sampling.max_new_tokens = options.response_length;
  sampling.pad_id = options.truncation.pad_id;

  const std::vector<std::size_t> rows = repeated_rows(indices, options.samples_per_query);
  if (rows.empty()) throw Error("compare: no queries to sample");
  std::vector<at::Tensor> query_parts, response_parts;
  for (std::size_t start = 0; start < rows.size(); start += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t end = std::min(rows.size(), start + static_cast<std::size_t>(options.batch_size));
    const std::vector<std::size_t> batch_rows(rows.begin() + static_cast<std::ptrdiff_t>(start),
                                              rows.begin() + static_cast<std::ptrdiff_t>(end));
    const ppo::QueryBatch batch = ppo::make_query_batch(queries, batch_rows, device);
    const at::Tensor response = sampling::sample(policy, batch.context, batch.context_mask, sampling).tokens;  // [b, N]
    query_parts.push_back(batch.query.to(at::kCPU));
    response_parts.push_back(ppo::truncate_responses(response, options.truncation).to(at::kCPU));
  }
  PolicyResponses out;
  out.query = at::cat(query_parts, 0);
  out.processed = at::cat(response_parts, 0);
  return out;
}

std::vector<double> judge_responses(ppo::RewardFunction& judge, const PolicyResponses& responses,
                                    const CompareOptions& options, const at::Device& device) {
  torch::NoGradGuard no_grad;
  const std::int64_t rows = responses.processed.size(0);
  std::vector<double> scores;
  for (std::int64_t start = 0; start < rows; start += options.batch_size) {
    const std::int64_t n = std::min<std::int64_t>(options.batch_size, rows - start);
    const at::Tensor query = responses.query.narrow(0, start, n).to(device);
    const at::Tensor processed = responses.processed.narrow(0, start, n).to(device);
    at::Tensor score = judge.score(query, processed).to(at::kFloat);  // [n]
    if (score.dim() != 1 || score.size(0) != n) {
      throw Error("judge " + judge.name() + ": returned " + std::to_string(score.numel()) + " scores for " +
                  std::to_string(n) + " responses");
    }
    if (options.apply_penalty) score = ppo::apply_penalty(score, processed, options.truncation);
    const at::Tensor c = score.to(at::kCPU, at::kDouble).contiguous();
    scores.insert(scores.end(), c.data_ptr<double>(), c.data_ptr<double>() + n);
  }
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw Error("judge " + judge.name() + ": the score of response " + std::to_string(i) + " is not finite");
    }
  }
  return scores;
}

std::string response_text(const PolicyResponses& r, std::size_t row, const tokenizer::Tokenizer& tokenizer,
                          int pad_id) {
  return decode_without_pads(r.processed[static_cast<std::int64_t>(row)], pad_id, tokenizer);
}

std::string query_text(const PolicyResponses& r, std::size_t row, const tokenizer::Tokenizer& tokenizer, int pad_id) {
  return decode_without_pads(r.query[static_cast<std::int64_t>(row)], pad_id, tokenizer);
}

}  // namespace rlhf::eval
