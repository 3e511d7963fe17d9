// Scoring a file of summaries (what `rlhf rouge` runs): ROUGE of every prediction (or of the lead-3 of
// its source, the paper's baseline) against its reference, corpus means with standard errors and
// bootstrap intervals, and the copying statistics where sources are given.
//
// Input: JSON Lines, one object per line, {"prediction": "...", "reference": "...", "source": "..."};
// "source" is optional, "prediction" is not needed for lead-3. Other keys are ignored, blank lines
// skipped. A bad line is an error "PATH: line L: field \"F\": what was expected".
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rlhf/config/constraints.h"
#include "rlhf/metrics/aggregate.h"
#include "rlhf/metrics/copying.h"
#include "rlhf/metrics/rouge.h"

namespace rlhf::metrics {

struct SummaryRecord {
  std::size_t line = 0;  // 1-based line in the file, for messages and per-example output
  std::string prediction;
  std::string reference;
  std::optional<std::string> source;
};

// Reads the records; with `need_prediction` false a missing "prediction" is allowed (lead-3), with
// `need_source` true every record needs a "source". Throws rlhf::Error for a missing file, a bad line
// or a file without records.
std::vector<SummaryRecord> read_summary_records(const std::filesystem::path& path, bool need_prediction,
                                                bool need_source);

struct SummaryEvalOptions {
  bool stem = true;    // Porter stemming of tokens longer than 3 characters (rouge_score's use_stemmer)
  bool lead3 = false;  // score the first 3 sentences of "source" instead of "prediction"
  BootstrapOptions bootstrap;

  template <class V>
  void visit(V& v) {
    v.field("stem", stem, "Porter-stem tokens longer than 3 characters before matching (rouge_score's use_stemmer)");
    v.field("lead3", lead3, "Score the lead-3 baseline (the first 3 sentences of \"source\") instead of \"prediction\"");
    v.field("bootstrap_samples", bootstrap.samples, "Bootstrap resamples for the 95% intervals; 0 = none",
            config::Range::at_least(0));
    v.field("seed", bootstrap.seed, "Seed of the bootstrap resampling");
  }
};

// Mean, standard error and interval of precision, recall and F1 over the examples.
struct RougeAggregate {
  Aggregate precision;
  Aggregate recall;
  Aggregate f1;
};

struct ExampleResult {
  std::size_t line = 0;
  std::string summary;  // what was scored: the prediction, or the lead-3 of the source
  RougeScores rouge;
  std::optional<CopyStats> copying;  // when the record has a source
};

struct SummaryEvaluation {
  std::vector<ExampleResult> examples;
  RougeAggregate rouge1;
  RougeAggregate rouge2;
  RougeAggregate rougeL;
  std::optional<CopySummary> copying;  // over the records with a source; absent when none has one
};

SummaryEvaluation evaluate_summaries(const std::vector<SummaryRecord>& records, const SummaryEvalOptions& options);

// The whole evaluation as JSON: options, per metric {precision, recall, f1} each {mean, stderr,
// ci95_low, ci95_high}, "copying" (when present) and "examples" (per line: F1s and copy statistics).
nlohmann::ordered_json to_json(const SummaryEvaluation& evaluation, const SummaryEvalOptions& options);

// A readable table of the corpus numbers (ROUGE in points, x100, as papers print them).
std::string format_table(const SummaryEvaluation& evaluation, const SummaryEvalOptions& options);

}  // namespace rlhf::metrics
