#include "rlhf/metrics/summary_eval.h"

#include <fmt/format.h>

#include <sstream>

#include "rlhf/metrics/sentences.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::metrics {
namespace {

using nlohmann::ordered_json;

[[noreturn]] void line_error(const std::filesystem::path& path, std::size_t line, const std::string& what) {
  throw_file_error(path.string(), "line " + std::to_string(line) + ": " + what);
}

// The string field `name` of `record`: absent gives nullopt (or an error when `required`), any other
// type is an error.
std::optional<std::string> string_field(const nlohmann::json& record, const char* name, bool required,
                                        const std::filesystem::path& path, std::size_t line) {
  const auto it = record.find(name);
  if (it == record.end()) {
    if (required) line_error(path, line, fmt::format("field \"{}\" is missing (expected a string)", name));
    return std::nullopt;
  }
  if (!it->is_string()) line_error(path, line, fmt::format("field \"{}\": expected a string, got {}", name, it->type_name()));
  return it->get<std::string>();
}

SummaryRecord parse_record(const std::string& text, std::size_t line, const std::filesystem::path& path,
                           bool need_prediction, bool need_source) {
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    line_error(path, line, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!record.is_object()) line_error(path, line, "expected a JSON object with \"prediction\" and \"reference\"");
  SummaryRecord r;
  r.line = line;
  r.prediction = string_field(record, "prediction", need_prediction, path, line).value_or("");
  r.reference = *string_field(record, "reference", true, path, line);
  r.source = string_field(record, "source", need_source, path, line);
  return r;
}

RougeAggregate aggregate_rouge(const std::vector<ExampleResult>& examples, RougeScore RougeScores::*metric,
                               const BootstrapOptions& bootstrap) {
  std::vector<double> p, r, f;
  for (const auto& e : examples) {
    const RougeScore& s = e.rouge.*metric;
    p.push_back(s.precision);
    r.push_back(s.recall);
    f.push_back(s.f1);
  }
  return {aggregate(p, bootstrap), aggregate(r, bootstrap), aggregate(f, bootstrap)};
}

ordered_json aggregate_json(const Aggregate& a) {
  return {{"mean", a.mean}, {"stderr", a.standard_error}, {"ci95_low", a.ci_low}, {"ci95_high", a.ci_high}};
}

ordered_json rouge_json(const RougeAggregate& r) {
  return {{"precision", aggregate_json(r.precision)}, {"recall", aggregate_json(r.recall)}, {"f1", aggregate_json(r.f1)}};
}

ordered_json copying_json(const CopySummary& c) {
  return {{"summaries", c.summaries},
          {"sentences", c.sentences},
          {"copied_sentences", c.copied_sentences},
          {"copied_share", {{"value", c.copied_share.value}, {"stderr", c.copied_share.standard_error}}},
          {"novelty", {{"value", c.novelty.value}, {"stderr", c.novelty.standard_error}}},
          {"copies_start", aggregate_json(c.copies_start)},
          {"start_prefix_words", aggregate_json(c.start_prefix_words)},
          {"longest_span_words", aggregate_json(c.longest_span_words)},
          {"longest_span_sentence_histogram", c.span_sentence_histogram},
          {"without_span", c.without_span}};
}

ordered_json example_json(const ExampleResult& e) {
  ordered_json j = {{"line", e.line},
                    {"rouge1_f1", e.rouge.rouge1.f1},
                    {"rouge2_f1", e.rouge.rouge2.f1},
                    {"rougeL_f1", e.rouge.rougeL.f1}};
  if (e.copying) {
    const CopyStats& c = *e.copying;
    ordered_json span = nullptr;
    if (c.longest.words > 0) {
      span = {{"words", c.longest.words},
              {"summary_word", c.longest.summary_word},
              {"source_word", c.longest.source_word},
              {"source_offset", c.longest.source_offset},
              {"source_sentence", c.longest.source_sentence},
              {"relative_offset", c.longest.relative_offset}};
    }
    j["copying"] = {{"sentences", c.sentences},
                    {"copied_sentences", c.copied_sentences},
                    {"copies_start", c.copies_start},
                    {"start_prefix_words", c.start_prefix_words},
                    {"longest_span", span}};
  }
  return j;
}

std::string table_row(const char* name, const RougeAggregate& r) {
  return fmt::format("{:<8}{:>7.2f}{:>7.2f}{:>7.2f}{:>7.2f}   {:.2f}-{:.2f}\n", name, 100 * r.precision.mean,
                     100 * r.recall.mean, 100 * r.f1.mean, 100 * r.f1.standard_error, 100 * r.f1.ci_low, 100 * r.f1.ci_high);
}

std::string copying_table(const CopySummary& c) {
  std::string out = fmt::format("copying ({} summaries with a source, {} sentences)\n", c.summaries, c.sentences);
  out += fmt::format("  sentence novelty     {:6.1f}% ± {:.1f}  (copied {:.1f}%)\n", 100 * c.novelty.value,
                     100 * c.novelty.standard_error, 100 * c.copied_share.value);
  out += fmt::format("  copies the start     {:6.1f}% ± {:.1f}\n", 100 * c.copies_start.mean,
                     100 * c.copies_start.standard_error);
  out += fmt::format("  shared start words   {:6.2f}\n", c.start_prefix_words.mean);
  out += fmt::format("  longest copied span  {:6.2f} words\n", c.longest_span_words.mean);
  out += "  longest span starts in source sentence:";
  for (std::size_t i = 0; i < c.span_sentence_histogram.size(); ++i) {
    out += fmt::format(" {}{}:{}", i, i + 1 == c.span_sentence_histogram.size() ? "+" : "", c.span_sentence_histogram[i]);
  }
  out += fmt::format(" (none: {})\n", c.without_span);
  return out;
}

}  // namespace

std::vector<SummaryRecord> read_summary_records(const std::filesystem::path& path, bool need_prediction,
                                                bool need_source) {
  std::istringstream lines(read_text_file(path));
  std::vector<SummaryRecord> records;
  std::string line;
  for (std::size_t number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    records.push_back(parse_record(line, number, path, need_prediction, need_source));
  }
  if (records.empty()) throw_file_error(path.string(), "no records (expected one JSON object per line)");
  return records;
}

SummaryEvaluation evaluate_summaries(const std::vector<SummaryRecord>& records, const SummaryEvalOptions& options) {
  Rouge scorer(options.stem);
  SummaryEvaluation out;
  std::vector<CopyStats> copies;
  for (const auto& record : records) {
    if (options.lead3 && !record.source) throw Error(fmt::format("line {}: lead-3 needs the field \"source\"", record.line));
    ExampleResult e;
    e.line = record.line;
    e.summary = options.lead3 ? lead_sentences(*record.source, 3) : record.prediction;
    e.rouge = scorer.score(e.summary, record.reference);
    if (record.source) {
      e.copying = copy_stats(e.summary, *record.source);
      copies.push_back(*e.copying);
    }
    out.examples.push_back(std::move(e));
  }
  out.rouge1 = aggregate_rouge(out.examples, &RougeScores::rouge1, options.bootstrap);
  out.rouge2 = aggregate_rouge(out.examples, &RougeScores::rouge2, options.bootstrap);
  out.rougeL = aggregate_rouge(out.examples, &RougeScores::rougeL, options.bootstrap);
  if (!copies.empty()) out.copying = summarize_copying(copies, options.bootstrap);
  return out;
}

nlohmann::ordered_json to_json(const SummaryEvaluation& evaluation, const SummaryEvalOptions& options) {
  ordered_json j = {{"examples", evaluation.examples.size()},
                    {"scored", options.lead3 ? "lead3" : "prediction"},
                    {"stem", options.stem},
                    {"bootstrap_samples", options.bootstrap.samples},
                    {"rouge1", rouge_json(evaluation.rouge1)},
                    {"rouge2", rouge_json(evaluation.rouge2)},
                    {"rougeL", rouge_json(evaluation.rougeL)}};
  j["copying"] = evaluation.copying ? copying_json(*evaluation.copying) : ordered_json(nullptr);
  ordered_json per_example = ordered_json::array();
  for (const auto& e : evaluation.examples) per_example.push_back(example_json(e));
  j["per_example"] = std::move(per_example);
  return j;
}

std::string format_table(const SummaryEvaluation& evaluation, const SummaryEvalOptions& options) {
  std::string out = fmt::format("{} examples, scored: {}, stemming {}\n", evaluation.examples.size(),
                                options.lead3 ? "lead-3 of the source" : "prediction", options.stem ? "on" : "off");
  out += fmt::format("{:<8}{:>7}{:>7}{:>7}{:>7}   {}\n", "", "P", "R", "F1", "se F1", "F1 95% interval");
  out += table_row("ROUGE-1", evaluation.rouge1);
  out += table_row("ROUGE-2", evaluation.rouge2);
  out += table_row("ROUGE-L", evaluation.rougeL);
  if (evaluation.copying) out += copying_table(*evaluation.copying);
  return out;
}

}  // namespace rlhf::metrics
