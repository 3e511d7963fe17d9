#include "rlhf/eval/summary_metrics.h"

#include "rlhf/eval/policy_eval.h"
#include "rlhf/metrics/rouge.h"
#include "rlhf/metrics/sentences.h"

namespace rlhf::eval {
namespace {

// ROUGE F1 of predictions[k] against the reference of queries[indices[k]]: mean and standard error over queries.
nlohmann::ordered_json rouge_of(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                const std::vector<std::string>& predictions, bool stem) {
  metrics::Rouge rouge(stem);
  std::vector<double> r1, r2, rl;
  for (std::size_t k = 0; k < indices.size() && k < predictions.size(); ++k) {
    const metrics::RougeScores s = rouge.score(predictions[k], queries[indices[k]].reference);
    r1.push_back(s.rouge1.f1);
    r2.push_back(s.rouge2.f1);
    rl.push_back(s.rougeL.f1);
  }
  return {{"rouge1", to_json(stats_of(r1))},
          {"rouge2", to_json(stats_of(r2))},
          {"rougeL", to_json(stats_of(rl))},
          {"stemmed", stem}};
}

}  // namespace

nlohmann::ordered_json summary_metrics(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                       const std::vector<std::string>& responses, const SummaryMetricsOptions& options) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (options.rouge && queries.has_references()) out["rouge"] = rouge_of(queries, indices, responses, options.stem);
  return out;
}

nlohmann::ordered_json lead3_metrics(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                     const SummaryMetricsOptions& options) {
  std::vector<std::string> leads;
  for (std::size_t i : indices) leads.push_back(metrics::lead_sentences(queries[i].text, 3));
  return summary_metrics(queries, indices, leads, options);
}

}  // namespace rlhf::eval
