// Sampling questions for labelers with the paper's rejection rule (see questions.h).
#include "rlhf/labelers/questions.h"

#include <algorithm>

#include "rlhf/core/torch_compat.h"
#include "rlhf/model/batching.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/util/error.h"

namespace rlhf::labelers {
namespace {

// The kept draw of a row that never met the rule: cut after its last truncate token, if any.
void truncate_fallback(std::vector<int>& response, int truncate_token, int pad_id) {
  const auto last = std::find(response.rbegin(), response.rend(), truncate_token);
  if (last == response.rend()) return;
  std::fill(last.base(), response.end(), pad_id);
}

// Contexts of the given rows as a batch: right-padded, pads (anywhere) masked.
std::pair<at::Tensor, at::Tensor> context_batch(const std::vector<std::vector<int>>& contexts,
                                                const std::vector<std::size_t>& rows, int pad_id) {
  std::vector<std::vector<int>> picked;
  picked.reserve(rows.size());
  for (std::size_t r : rows) picked.push_back(contexts[r]);
  const model::PaddedBatch batch = model::pad_right(picked, pad_id);
  return {batch.ids, batch.mask.logical_and(batch.ids.ne(pad_id))};
}

std::vector<int> row_of(const at::Tensor& responses, std::int64_t i) {
  const at::Tensor row = responses[i].contiguous();
  const std::int64_t* p = row.data_ptr<std::int64_t>();
  return std::vector<int>(p, p + row.numel());
}

}  // namespace

void QuestionOptions::check() const {
  if (truncate_token >= 0 && truncate_after >= response_length) {
    throw Error("truncate_after: " + std::to_string(truncate_after) + " leaves no index for the truncate token in " +
                std::to_string(response_length) + "-token responses (it must be < response_length)");
  }
}

int truncation_index(const std::vector<int>& response, int truncate_token, int truncate_after) {
  if (truncate_token < 0) return -1;
  for (std::size_t i = static_cast<std::size_t>(std::max(truncate_after, 0)); i < response.size(); ++i) {
    if (response[i] == truncate_token) return static_cast<int>(i);
  }
  return -1;
}

std::vector<data::Comparison> sample_questions(const DrawFunction& draw, const std::vector<std::vector<int>>& contexts,
                                               const std::vector<std::vector<int>>& raw_queries,
                                               const QuestionOptions& o, int pad_id, QuestionStats* stats) {
  o.check();
  if (contexts.size() != raw_queries.size()) {
    throw Error("sample_questions: " + std::to_string(contexts.size()) + " contexts but " +
                std::to_string(raw_queries.size()) + " queries");
  }
  const std::size_t N = static_cast<std::size_t>(o.num_samples);
  std::vector<data::Comparison> items(contexts.size());
  for (std::size_t q = 0; q < items.size(); ++q) {
    items[q].query = raw_queries[q];
    items[q].samples.resize(N);
    items[q].best = -1;
  }
  // Row r is sample r % N of query r / N; its context is contexts[r / N].
  std::vector<std::vector<int>> row_contexts;
  row_contexts.reserve(items.size() * N);
  for (const auto& context : contexts) row_contexts.insert(row_contexts.end(), N, context);

  QuestionStats s;
  s.questions = items.size();
  s.samples = row_contexts.size();
  const bool reject = o.truncate_token >= 0;
  for (std::size_t start = 0; start < row_contexts.size(); start += static_cast<std::size_t>(o.batch_size)) {
    const std::size_t end = std::min(row_contexts.size(), start + static_cast<std::size_t>(o.batch_size));
    std::vector<std::size_t> pending;
    for (std::size_t r = start; r < end; ++r) pending.push_back(r);
    for (int attempt = 1; !pending.empty(); ++attempt) {
      const auto [context, mask] = context_batch(row_contexts, pending, pad_id);
      const at::Tensor responses = draw(context, mask).to(at::kCPU, at::kLong);
      if (responses.dim() != 2 || responses.size(0) != static_cast<std::int64_t>(pending.size()) ||
          responses.size(1) != o.response_length) {
        throw Error("sample_questions: a draw returned shape " + c10::str(responses.sizes()) + ", expected [" +
                    std::to_string(pending.size()) + ", " + std::to_string(o.response_length) + "]");
      }
      s.draws += pending.size();
      std::vector<std::size_t> failed;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        std::vector<int> response = row_of(responses, static_cast<std::int64_t>(i));
        const int cut = truncation_index(response, o.truncate_token, o.truncate_after);
        if (cut >= 0) {
          std::fill(response.begin() + cut + 1, response.end(), pad_id);
        } else if (reject && attempt < o.max_attempts) {
          failed.push_back(pending[i]);
          continue;
        } else if (reject) {
          truncate_fallback(response, o.truncate_token, pad_id);
          ++s.gave_up;
        }
        items[pending[i] / N].samples[pending[i] % N] = std::move(response);
      }
      pending = std::move(failed);
    }
  }
  if (stats) *stats = s;
  return items;
}

std::vector<data::Comparison> sample_questions(model::Gpt2Impl& policy, const std::vector<std::vector<int>>& contexts,
                                               const std::vector<std::vector<int>>& raw_queries,
                                               const QuestionOptions& o, int pad_id, std::uint64_t seed,
                                               QuestionStats* stats) {
  std::size_t longest = 0;
  for (const auto& c : contexts) longest = std::max(longest, c.size());
  const auto positions = static_cast<std::size_t>(policy.config().n_positions);
  if (longest + static_cast<std::size_t>(o.response_length) > positions) {
    throw Error("questions: contexts of up to " + std::to_string(longest) + " tokens plus " +
                std::to_string(o.response_length) + " response tokens exceed the model's context of " +
                std::to_string(positions));
  }
  sampling::SamplingOptions sampling;
  sampling.temperature = o.temperature;
  sampling.max_new_tokens = o.response_length;
  sampling.pad_id = pad_id;
  const at::Device device = policy.device();
  const DrawFunction draw = [&](const at::Tensor& context, const at::Tensor& mask) {
    return sampling::sample(policy, context.to(device), mask.to(device), sampling).tokens;
  };
  compat::manual_seed(seed);
  return sample_questions(draw, contexts, raw_queries, o, pad_id, stats);
}

}  // namespace rlhf::labelers
