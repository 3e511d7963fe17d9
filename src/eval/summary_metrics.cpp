#include "rlhf/eval/summary_metrics.h"

#include "rlhf/metrics/sentences.h"
#include "rlhf/metrics/summary_eval.h"

namespace rlhf::eval {
namespace {

nlohmann::ordered_json to_json(const metrics::Aggregate& a) {
  return {{"mean", a.mean}, {"stderr", a.standard_error}, {"ci95_low", a.ci_low}, {"ci95_high", a.ci_high},
          {"count", a.count}};
}

// ROUGE F1 and copying statistics of summaries[k] against queries[indices[k]] (its reference and source text).
nlohmann::ordered_json score_summaries(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                       const std::vector<std::string>& summaries, const SummaryMetricsOptions& options) {
  std::vector<metrics::SummaryRecord> records;
  for (std::size_t k = 0; k < indices.size() && k < summaries.size(); ++k) {
    const data::Query& q = queries[indices[k]];
    records.push_back({k + 1, summaries[k], q.reference, q.text});
  }
  metrics::SummaryEvalOptions eval_options;
  eval_options.stem = options.stem;
  const metrics::SummaryEvaluation e = metrics::evaluate_summaries(records, eval_options);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (options.rouge) {
    out["rouge"] = {{"rouge1", to_json(e.rouge1.f1)},
                    {"rouge2", to_json(e.rouge2.f1)},
                    {"rougeL", to_json(e.rougeL.f1)},
                    {"stemmed", options.stem}};
  }
  if (options.copying && e.copying) {
    const metrics::CopySummary& c = *e.copying;
    out["copying"] = {{"novelty", c.novelty.value},
                      {"novelty_stderr", c.novelty.standard_error},
                      {"sentences", c.sentences},
                      {"copied_sentences", c.copied_sentences},
                      {"copies_start", to_json(c.copies_start)},
                      {"start_prefix_words", to_json(c.start_prefix_words)},
                      {"longest_span_words", to_json(c.longest_span_words)},
                      {"longest_span_source_sentence_histogram", c.span_sentence_histogram},
                      {"without_copied_word", c.without_span}};
  }
  return out;
}

}  // namespace

nlohmann::ordered_json summary_metrics(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                       const std::vector<std::string>& responses, const SummaryMetricsOptions& options) {
  if (!queries.has_references()) return nlohmann::ordered_json::object();
  return score_summaries(queries, indices, responses, options);
}

nlohmann::ordered_json lead3_metrics(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                     const SummaryMetricsOptions& options) {
  std::vector<std::string> leads;
  for (std::size_t i : indices) leads.push_back(metrics::lead_sentences(queries[i].text, 3));
  return summary_metrics(queries, indices, leads, options);
}

}  // namespace rlhf::eval
