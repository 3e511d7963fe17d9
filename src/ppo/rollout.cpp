#include "rlhf/ppo/rollout.h"

#include <chrono>
#include <optional>

#include "rlhf/core/cuda_device.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/ppo/losses.h"
#include "rlhf/sampling/sampler.h"

namespace rlhf::ppo {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start, const at::Device& device) {
  core::SyncDebugGuard allowed(false);  // a stage timing's one deliberate synchronisation (forbid_host_sync)
  compat::synchronize(device);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

at::Tensor rows_to_tensor(const std::vector<std::vector<int>>& rows) {
  const auto B = static_cast<std::int64_t>(rows.size());
  const auto T = static_cast<std::int64_t>(rows.empty() ? 0 : rows[0].size());
  at::Tensor out = at::empty({B, T}, at::kLong);
  auto a = out.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    TORCH_CHECK(static_cast<std::int64_t>(rows[b].size()) == T, "make_query_batch: rows of different lengths");
    for (std::int64_t t = 0; t < T; ++t) a[b][t] = rows[b][t];
  }
  return out;
}

// Applies `fn(start, length)` to consecutive chunks of `chunk` rows (0 = all) and concatenates
// each output field along dim 0.
template <class Fn>
std::vector<at::Tensor> chunked(std::int64_t rows, int chunk, Fn fn) {
  const std::int64_t step = chunk > 0 ? chunk : rows;
  std::vector<std::vector<at::Tensor>> parts;
  for (std::int64_t start = 0; start < rows; start += step) {
    std::vector<at::Tensor> out = fn(start, std::min(step, rows - start));
    if (parts.empty()) parts.resize(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) parts[i].push_back(out[i]);
  }
  std::vector<at::Tensor> joined;
  for (auto& p : parts) joined.push_back(p.size() == 1 ? p[0] : at::cat(p, 0));
  return joined;
}

}  // namespace

QueryBatch make_query_batch(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                            const at::Device& device) {
  std::vector<std::vector<int>> raw, context;
  for (std::size_t i : indices) {
    raw.push_back(queries[i].tokens);
    context.push_back(queries.context(i));
  }
  QueryBatch out;
  out.query = rows_to_tensor(raw).to(device);
  out.context = rows_to_tensor(context).to(device);
  out.context_mask = out.context.ne(queries.pad_id());
  return out;
}

Rollout generate_rollout(PolicyImpl& policy, model::Gpt2Impl& reference, RewardFunction& reward,
                         const QueryBatch& queries, const RolloutOptions& o, RolloutTimes* times) {
  at::NoGradGuard no_grad;
  RolloutTimes local;
  RolloutTimes& t = times != nullptr ? *times : local;
  const at::Device device = queries.context.device();
  const auto B = queries.context.size(0);
  const at::Tensor& ctx = queries.context;
  const at::Tensor& mask = queries.context_mask;
  Rollout r;
  r.queries = queries;
  std::optional<compat::AutocastGuard> autocast;  // the model passes only, not the reward function
  autocast.emplace(o.precision.device, o.precision.dtype());

  auto start = Clock::now();
  sampling::SamplingOptions sampling;
  sampling.temperature = o.temperature;
  sampling.max_new_tokens = o.response_length;
  sampling.pad_id = o.truncation.pad_id;
  r.response = chunked(B, o.rollout_batch_size, [&](std::int64_t s, std::int64_t n) {
    return std::vector<at::Tensor>{
        sampling::sample(*policy.trunk, ctx.narrow(0, s, n), mask.narrow(0, s, n), sampling).tokens};
  })[0];
  t.sample += seconds_since(start, device);

  start = Clock::now();
  auto policy_out = chunked(B, o.forward_batch_size, [&](std::int64_t s, std::int64_t n) {
    const ResponseAnalysis a =
        policy.analyze(ctx.narrow(0, s, n), mask.narrow(0, s, n), r.response.narrow(0, s, n), o.temperature);
    return std::vector<at::Tensor>{a.logprobs, a.values};
  });
  r.logprobs = policy_out[0];
  r.values = policy_out[1];
  t.policy += seconds_since(start, device);

  start = Clock::now();
  r.ref_logprobs = chunked(B, o.forward_batch_size, [&](std::int64_t s, std::int64_t n) {
    return std::vector<at::Tensor>{analyze_responses(reference, nullptr, ctx.narrow(0, s, n), mask.narrow(0, s, n),
                                                     r.response.narrow(0, s, n), o.temperature, false)
                                       .logprobs};
  })[0];
  t.reference += seconds_since(start, device);
  autocast.reset();

  start = Clock::now();
  r.processed = truncate_responses(r.response, o.truncation);
  r.raw_score = reward.score(queries.query, r.processed).to(device, loss_dtype(r.logprobs));
  TORCH_CHECK(r.raw_score.dim() == 1 && r.raw_score.size(0) == B, "reward function ", reward.name(),
              " returned a tensor of shape ", r.raw_score.sizes(), "; expected [", B, "]");
  r.score = apply_penalty(r.raw_score, r.processed, o.truncation);
  t.reward += seconds_since(start, device);
  return r;
}

}  // namespace rlhf::ppo
