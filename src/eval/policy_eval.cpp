#include "rlhf/eval/policy_eval.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>

#include "rlhf/core/torch_compat.h"
#include "rlhf/ppo/rollout.h"
#include "rlhf/tokenizer/pretokenize.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::eval {
namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Running sums over batches of per-episode values.
struct Collected {
  std::vector<double> score, raw_score, kl, entropy, length;
  std::vector<std::vector<double>> extra;
  double penalized = 0, truncated = 0;
};

}  // namespace

std::vector<std::size_t> held_out_indices(const data::QueryDataset& queries, std::size_t n) {
  const std::size_t count = std::min(queries.size(), n);
  std::vector<std::size_t> indices;
  for (std::size_t i = queries.size() - count; i < queries.size(); ++i) indices.push_back(i);
  return indices;
}

std::string decode_without_pads(const at::Tensor& row, int pad_id, const tokenizer::Tokenizer& tokenizer) {
  const at::Tensor c = row.to(at::kCPU, at::kLong).contiguous();
  const auto* p = c.data_ptr<std::int64_t>();
  std::vector<int> ids;
  for (std::int64_t i = 0; i < c.numel(); ++i) {
    if (p[i] != pad_id && p[i] >= 0 && p[i] < tokenizer.vocab_size()) ids.push_back(static_cast<int>(p[i]));
  }
  return tokenizer::to_valid_utf8(tokenizer.decode(ids));
}

Stats stats_of(const std::vector<double>& values) {
  Stats s;
  s.count = values.size();
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  double sq = 0;
  for (double v : values) sq += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(values.size()));
  // The standard error uses the unbiased variance.
  s.stderr_mean = values.size() > 1 ? std::sqrt(sq / static_cast<double>(values.size() - 1) /
                                                static_cast<double>(values.size()))
                                    : 0.0;
  return s;
}

nlohmann::ordered_json to_json(const Stats& s) {
  return {{"mean", s.mean}, {"stderr", s.stderr_mean}, {"std", s.std}, {"count", s.count}};
}

nlohmann::ordered_json PolicyEvaluation::to_json() const {
  nlohmann::ordered_json j;
  j["score"] = eval::to_json(score);
  j["raw_score"] = eval::to_json(raw_score);
  for (const auto& [name, s] : extra) j["scores"][name] = eval::to_json(s);
  j["kl"] = eval::to_json(kl);
  j["entropy"] = eval::to_json(entropy);
  j["penalized_fraction"] = penalized_fraction;
  j["truncated_fraction"] = truncated_fraction;
  j["mean_length"] = mean_length;
  j["length"] = eval::to_json(length);
  j["samples"] = nlohmann::ordered_json::array();
  for (const auto& s : samples) {
    j["samples"].push_back({{"query", s.query}, {"response", s.response}, {"score", s.score}});
  }
  return j;
}

PolicyEvaluation evaluate_policy(ppo::PolicyImpl& policy, model::Gpt2Impl& reference, ppo::RewardFunction& reward,
                                 const std::vector<std::pair<std::string, ppo::RewardFunction*>>& extra,
                                 const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                 const EvalOptions& options, const tokenizer::Tokenizer* tokenizer) {
  torch::NoGradGuard no_grad;
  const bool was_training = policy.is_training();
  policy.eval();
  compat::manual_seed(options.seed);
  const at::Device device = policy.trunk->wte->weight.device();

  ppo::RolloutOptions rollout_options;
  rollout_options.response_length = options.response_length;
  rollout_options.temperature = options.temperature;
  rollout_options.truncation = options.truncation;
  rollout_options.forward_batch_size = options.batch_size;

  Collected c;
  c.extra.resize(extra.size());
  PolicyEvaluation out;
  const int pad = options.truncation.pad_id;
  for (std::size_t start = 0; start < indices.size(); start += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t end = std::min(indices.size(), start + static_cast<std::size_t>(options.batch_size));
    const std::vector<std::size_t> rows(indices.begin() + static_cast<std::ptrdiff_t>(start),
                                        indices.begin() + static_cast<std::ptrdiff_t>(end));
    const ppo::QueryBatch batch = ppo::make_query_batch(queries, rows, device);
    const ppo::Rollout r = ppo::generate_rollout(policy, reference, reward, batch, rollout_options);

    // Entropy of the policy at each sampled position: [B, N] summed over the response.
    const ppo::ResponseAnalysis a =
        policy.analyze(batch.context, batch.context_mask, r.response, options.temperature, /*with_entropy=*/true);
    const at::Tensor valid = ppo::has_truncate_token(r.processed, options.truncation);  // bool [B]
    const at::Tensor length = r.processed.ne(pad).sum(1);                             // [B]

    auto append = [](std::vector<double>& to, const at::Tensor& t) {
      const auto v = to_vector(t);
      to.insert(to.end(), v.begin(), v.end());
    };
    append(c.score, r.score);
    append(c.raw_score, r.raw_score);
    append(c.kl, (r.logprobs - r.ref_logprobs).sum(1));
    append(c.entropy, a.entropy.sum(1));
    append(c.length, length);
    c.penalized += static_cast<double>(valid.logical_not().sum().item<std::int64_t>());
    c.truncated += static_cast<double>(r.processed.ne(r.response).any(1).sum().item<std::int64_t>());
    for (std::int64_t b = 0; options.keep_responses && tokenizer && b < r.processed.size(0); ++b) {
      out.responses.push_back(decode_without_pads(r.processed[b], pad, *tokenizer));
    }
    for (std::size_t e = 0; e < extra.size(); ++e) append(c.extra[e], extra[e].second->score(r.queries.query, r.processed));

    for (std::int64_t b = 0; tokenizer && b < r.response.size(0); ++b) {
      if (static_cast<int>(out.samples.size()) >= options.samples_shown) break;
      out.samples.push_back({decode_without_pads(r.queries.query[b], pad, *tokenizer),
                             decode_without_pads(r.processed[b], pad, *tokenizer), r.score[b].item<double>()});
    }
  }
  out.score = stats_of(c.score);
  out.raw_score = stats_of(c.raw_score);
  out.kl = stats_of(c.kl);
  out.entropy = stats_of(c.entropy);
  for (std::size_t e = 0; e < extra.size(); ++e) out.extra.emplace_back(extra[e].first, stats_of(c.extra[e]));
  out.penalized_fraction = indices.empty() ? 0.0 : c.penalized / static_cast<double>(indices.size());
  out.truncated_fraction = indices.empty() ? 0.0 : c.truncated / static_cast<double>(indices.size());
  out.length = stats_of(c.length);
  out.mean_length = out.length.mean;
  if (was_training) policy.train();
  return out;
}

}  // namespace rlhf::eval
