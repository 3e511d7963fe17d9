// Summarization metrics of evaluated responses (paper-spec section 6): ROUGE-1/2/L F1 against each
// query's reference summary, the lead-3 baseline, and the paper's copying statistics against the
// query's source text. The definitions live in include/rlhf/metrics (torch-free); this file applies
// them to a query dataset and aggregates (mean and standard error over queries).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/data/queries.h"

namespace rlhf::eval {

struct SummaryMetricsOptions {
  bool rouge = true;     // ROUGE-1/2/L F1 of each response against its query's reference (when the dataset has them)
  bool stem = true;      // Porter stemming of tokens longer than 3 characters (rouge_score's use_stemmer)
  bool lead3 = true;     // also score the first 3 sentences of each source text, the paper's baseline
  bool copying = true;   // sentence novelty and where copied text starts (summarization datasets only) in the source

  template <class V>
  void visit(V& v) {
    v.field("rouge", rouge, "ROUGE-1/2/L F1 against the dataset's reference summaries (when it has them)");
    v.field("stem", stem, "Porter stemming in ROUGE (tokens longer than 3 characters), as rouge_score's use_stemmer");
    v.field("lead3", lead3, "Also report the lead-3 baseline (the first 3 sentences of each source)");
    v.field("copying", copying,
            "Copying statistics of the responses against their source text (novelty, where copies start)");
  }
};

// For a dataset with reference summaries (else {}): {"rouge": {rouge1, rouge2, rougeL: F1 mean, stderr,
// 95% bootstrap interval}} when options.rouge, and {"copying": {novelty, copies_start, ...}} (against
// the query's source text) when options.copying; responses[k] answers queries[indices[k]].
nlohmann::ordered_json summary_metrics(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                       const std::vector<std::string>& responses, const SummaryMetricsOptions& options);

// The same ROUGE for the first 3 sentences of each source text (the lead-3 baseline), with its copying statistics.
nlohmann::ordered_json lead3_metrics(const data::QueryDataset& queries, const std::vector<std::size_t>& indices,
                                     const SummaryMetricsOptions& options);

}  // namespace rlhf::eval
