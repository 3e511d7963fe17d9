#include "rlhf/data/labels.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "rlhf/data/shuffle.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "rlhf/util/json_depth.h"
#include "text_input.h"

namespace rlhf::data {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::size_t kMaxSkipReasons = 10;
constexpr int kMaxSampleIndex = 9999;

// A problem with one record. `what` is "FIELD: what is wrong"; the caller adds the file and record.
struct RecordError {
  std::string what;
};

[[noreturn]] void bad(std::string what) {
  throw RecordError{std::move(what)};
}

// The value of a JSON integer if it fits in an int (a JSON number may be any unsigned 64-bit value).
std::optional<int> int_value(const json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
    return static_cast<int>(u);
  }
  const auto i = value.get<std::int64_t>();
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) return std::nullopt;
  return static_cast<int>(i);
}

// Turns records (JSON values) into Comparisons, checking every field.
class RecordChecker {
 public:
  RecordChecker(const tokenizer::Tokenizer& tokenizer, const LabelOptions& options, bool best_optional = false)
      : tokenizer_(tokenizer), options_(options), vocab_size_(tokenizer.vocab_size()), best_optional_(best_optional) {}

  Comparison openai_record(const json& record) const {
    if (!record.is_object()) {
      bad("expected an object with \"query\", \"sample0\", \"sample1\", ... and \"best\", got " + show_json(record));
    }
    Comparison c;
    c.query = token_ids(field(record, "query"), "query", options_.max_query_length, /*allow_empty=*/true);
    const std::vector<const json*> samples = openai_samples(record);
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const std::string name = "sample" + std::to_string(i);
      c.samples.push_back(token_ids(*samples[i], name, options_.max_sample_length, /*allow_empty=*/false));
    }
    c.best = best_or_none(record, static_cast<int>(c.samples.size()));
    labeler_info(record, c);
    return c;
  }

  Comparison jsonl_record(const json& record) const {
    if (!record.is_object()) {
      bad("expected an object {\"query\": text, \"samples\": [texts], \"best\": index}, got " + show_json(record));
    }
    Comparison c;
    c.query = text_tokens(field(record, "query"), "query", options_.max_query_length, /*allow_empty=*/true);
    const json& samples = field(record, "samples");
    if (!samples.is_array()) bad("samples: expected a list of strings, got " + show_json(samples));
    if (samples.size() < 2) {
      bad("samples: has " + std::to_string(samples.size()) + " samples; a comparison needs at least 2");
    }
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const std::string name = "samples[" + std::to_string(i) + "]";
      c.samples.push_back(text_tokens(samples[i], name, options_.max_sample_length, /*allow_empty=*/false));
    }
    c.best = best_or_none(record, static_cast<int>(c.samples.size()));
    labeler_info(record, c);
    return c;
  }

 private:
  // The optional "info": {"labeler_scores": [N finite numbers], "labeler_noise": p in [0, 1]}.
  static void labeler_info(const json& record, Comparison& c) {
    const auto it = record.find("info");
    if (it == record.end()) return;
    if (!it->is_object()) {
      bad("info: expected an object {\"labeler_scores\": [...], \"labeler_noise\": p}, got " + show_json(*it));
    }
    if (const auto scores = it->find("labeler_scores"); scores != it->end()) {
      if (!scores->is_array() || scores->size() != c.samples.size()) {
        bad("info.labeler_scores: expected a list of " + std::to_string(c.samples.size()) +
            " numbers (one per sample), got " + show_json(*scores));
      }
      for (std::size_t i = 0; i < scores->size(); ++i) {
        const json& v = (*scores)[i];
        if (!v.is_number() || !std::isfinite(v.get<double>())) {
          bad("info.labeler_scores[" + std::to_string(i) + "]: expected a finite number, got " + show_json(v));
        }
        c.labeler_scores.push_back(v.get<double>());
      }
    }
    if (const auto noise = it->find("labeler_noise"); noise != it->end()) {
      if (!noise->is_number() || !(noise->get<double>() >= 0.0 && noise->get<double>() <= 1.0)) {
        bad("info.labeler_noise: expected a probability in [0, 1], got " + show_json(*noise));
      }
      c.labeler_noise = noise->get<double>();
    }
  }

  static const json& field(const json& record, const char* name) {
    const auto it = record.find(name);
    if (it == record.end()) bad(std::string("missing field \"") + name + "\"");
    return *it;
  }

  // sample0 .. sample{N-1}, all present, N >= 2. Keys that are not "sample<index>" are ignored.
  static std::vector<const json*> openai_samples(const json& record) {
    std::map<int, const json*> by_index;
    for (auto it = record.begin(); it != record.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() <= 6 || key.compare(0, 6, "sample") != 0) continue;
      const std::string digits = key.substr(6);
      if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
      if (digits.size() > 1 && digits[0] == '0') bad("key \"" + key + "\": sample indices have no leading zeros");
      if (digits.size() > 4) bad("key \"" + key + "\": sample index above " + std::to_string(kMaxSampleIndex));
      by_index[std::stoi(digits)] = &it.value();
    }
    const int n = by_index.empty() ? 0 : by_index.rbegin()->first + 1;
    for (int i = 0; i < n; ++i) {
      if (by_index.count(i) == 0) {
        bad("missing field \"sample" + std::to_string(i) + "\" (the record has sample" + std::to_string(n - 1) + ")");
      }
    }
    if (n == 0) bad("missing field \"sample0\" (a record has sample0 .. sample{N-1}, N >= 2)");
    if (n == 1) bad("has only 1 sample (sample0); a comparison needs at least 2");
    std::vector<const json*> samples;
    samples.reserve(by_index.size());
    for (const auto& entry : by_index) samples.push_back(entry.second);
    return samples;
  }

  std::vector<int> token_ids(const json& value, const std::string& name, int max_length, bool allow_empty) const {
    if (!value.is_array()) bad(name + ": expected a list of token ids, got " + show_json(value));
    if (value.empty() && !allow_empty) bad(name + ": is empty");
    check_length(value.size(), name, max_length);
    std::vector<int> ids;
    ids.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
      const json& element = value[i];
      const auto where = [&] { return name + "[" + std::to_string(i) + "]"; };  // only for messages
      if (!element.is_number_integer()) bad(where() + ": expected an integer token id, got " + show_json(element));
      const std::optional<int> id = int_value(element);
      if (!id || ((*id < 0 || *id >= vocab_size_) && *id != options_.pad_id)) {
        bad(where() + ": token id " + element.dump() + " is outside the vocabulary (0.." +
            std::to_string(vocab_size_ - 1) + ") and is not the pad id " + std::to_string(options_.pad_id));
      }
      ids.push_back(*id);
    }
    return ids;
  }

  std::vector<int> text_tokens(const json& value, const std::string& name, int max_length, bool allow_empty) const {
    if (!value.is_string()) bad(name + ": expected a string, got " + show_json(value));
    std::vector<int> ids = tokenizer_.encode(value.get_ref<const std::string&>());
    if (ids.empty() && !allow_empty) bad(name + ": is empty");
    check_length(ids.size(), name, max_length);
    return ids;
  }

  static void check_length(std::size_t length, const std::string& name, int max_length) {
    if (max_length > 0 && length > static_cast<std::size_t>(max_length)) {
      const char* option = name == "query" ? "max_query_length" : "max_sample_length";
      bad(name + ": has " + std::to_string(length) + " tokens, more than " + option + " " + std::to_string(max_length));
    }
  }

  // Question files (best_optional_) may leave `best` out: -1.
  int best_or_none(const json& record, int num_samples) const {
    if (best_optional_ && !record.contains("best")) return -1;
    return best(field(record, "best"), num_samples);
  }

  static int best(const json& value, int num_samples) {
    if (!value.is_number_integer()) bad("best: expected an integer, got " + show_json(value));
    const std::optional<int> best = int_value(value);
    if (!best || *best < 0 || *best >= num_samples) {
      bad("best: must be in 0.." + std::to_string(num_samples - 1) + ", got " + value.dump());
    }
    return *best;
  }

  const tokenizer::Tokenizer& tokenizer_;
  const LabelOptions& options_;
  int vocab_size_;
  bool best_optional_;
};

// Gathers converted records: the same N everywhere, skip or stop on bad ones, `limit`, the final checks.
class Collector {
 public:
  Collector(const fs::path& path, const LabelOptions& options, bool openai)
      : path_(path.string()), options_(options), openai_(openai) {}

  bool full() const { return options_.limit > 0 && set_.items.size() >= options_.limit; }

  // `where` names the record ("record 12", "line 14 (record 12)"); `convert` throws RecordError.
  template <class Convert>
  void add(std::size_t record_index, const std::string& where, Convert&& convert) {
    ++records_;
    if (full()) return;
    try {
      Comparison c = convert();
      check_sample_count(c);
      if (set_.items.empty()) {
        set_.num_samples = static_cast<int>(c.samples.size());
        first_record_ = record_index;
      }
      set_.items.push_back(std::move(c));
    } catch (const RecordError& e) {
      if (!options_.skip_bad_records) throw_file_error(path_, where + ": " + e.what);
      ++set_.skipped;
      if (set_.skip_reasons.size() < kMaxSkipReasons) set_.skip_reasons.push_back(where + ": " + e.what);
    }
  }

  LabelSet finish() {
    if (set_.items.empty()) {
      if (set_.skipped > 0) {
        throw_file_error(
            path_, "all " + std::to_string(set_.skipped) + " records are bad; the first: " + set_.skip_reasons.front());
      }
      throw_file_error(path_, "contains no label records");
    }
    if (options_.limit > 0 && set_.items.size() < options_.limit) {
      throw_file_error(path_, "has " + std::to_string(set_.items.size()) + " good records (" +
                                  std::to_string(set_.skipped) + " skipped), fewer than limit " +
                                  std::to_string(options_.limit));
    }
    if (set_.skipped > 0) {
      std::string first;
      for (std::size_t i = 0; i < set_.skip_reasons.size() && i < 3; ++i)
        first += (i ? "; " : "") + set_.skip_reasons[i];
      spdlog::warn("{}: skipped {} bad records of {} read (skip_bad_records); first: {}", path_, set_.skipped, records_,
                   first);
    }
    return std::move(set_);
  }

 private:
  void check_sample_count(const Comparison& c) const {
    if (set_.items.empty() || static_cast<int>(c.samples.size()) == set_.num_samples) return;
    const std::string n = std::to_string(c.samples.size());
    std::string what = "has " + n + " samples";
    if (openai_) what += " (sample0..sample" + std::to_string(c.samples.size() - 1) + ")";
    what += first_record_ == 0 ? ", the first record has "
                               : ", record " + std::to_string(first_record_) + " (the first good one) has ";
    bad(what + std::to_string(set_.num_samples));
  }

  std::string path_;
  const LabelOptions& options_;
  bool openai_;
  LabelSet set_;
  std::size_t records_ = 0;
  std::size_t first_record_ = 0;
};

// The OpenAI array, parsed with a callback that converts each record as soon as it is complete and
// discards its JSON, so a 200 MB file never becomes a 200 MB-times-ten DOM.
void read_openai(const fs::path& path, const std::string& text, const RecordChecker& checker, Collector& out) {
  std::size_t index = 0;
  const json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth != 1) return true;
    if (event != json::parse_event_t::value && event != json::parse_event_t::object_end &&
        event != json::parse_event_t::array_end) {
      return true;
    }
    out.add(index, "record " + std::to_string(index), [&] { return checker.openai_record(parsed); });
    ++index;
    return false;  // drop the record from the array being built
  };
  json top;
  try {
    top = json::parse(text, on_event);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw_file_error(path.string(), "not valid JSON: " + json_error_text(e, false));
  }
  if (!top.is_array()) throw_file_error(path.string(), "expected a JSON array of label records, got " + show_json(top));
}

void read_jsonl(const std::string& text, const RecordChecker& checker, Collector& out) {
  std::size_t index = 0;
  for_each_line(text, [&](std::size_t line_number, std::string_view line) {
    if (is_blank(line)) return;
    const std::string where = "line " + std::to_string(line_number) + " (record " + std::to_string(index) + ")";
    out.add(index, where, [&] {
      json record;
      try {
        record = json::parse(line);
      } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
        bad("not valid JSON: " + json_error_text(e, true));
      }
      return checker.jsonl_record(record);
    });
    ++index;
  });
}

std::string detect_format(const fs::path& path, const std::string& text, const std::string& format) {
  const char first = first_content_char(text);
  if (first == '\0') throw_file_error(path.string(), "is empty: no label records");
  if (format == "openai" && first != '[') {
    throw_file_error(path.string(), std::string("format openai expects a JSON array of records, but the file begins "
                                                "with '") +
                                        first + "' (set format to jsonl for one object per line)");
  }
  if (format != "auto") return format;
  if (first == '[') return "openai";
  if (first == '{') return "jsonl";
  throw_file_error(path.string(), std::string("is neither an OpenAI label file (a JSON array of records) nor JSON "
                                              "Lines (one object per line): it begins with '") +
                                      first + "'");
}

LabelSet read_records(const fs::path& path, const tokenizer::Tokenizer& tokenizer, const LabelOptions& options,
                      bool best_optional) {
  const std::string text = read_text_file(path);
  const std::string format = detect_format(path, text, options.format);
  check_json_depth(text, path.string());
  const RecordChecker checker(tokenizer, options, best_optional);
  Collector collector(path, options, format == "openai");
  if (format == "openai") {
    read_openai(path, text, checker, collector);
  } else if (format == "jsonl") {
    read_jsonl(text, checker, collector);
  } else {
    throw Error("label format must be one of auto, openai, jsonl, got \"" + format + "\"");
  }
  return collector.finish();
}

}  // namespace

LabelSet read_labels(const fs::path& path, const tokenizer::Tokenizer& tokenizer, const LabelOptions& options) {
  return read_records(path, tokenizer, options, /*best_optional=*/false);
}

LabelSet read_questions(const fs::path& path, const tokenizer::Tokenizer& tokenizer, const LabelOptions& options) {
  return read_records(path, tokenizer, options, /*best_optional=*/true);
}

std::pair<std::vector<Comparison>, std::vector<Comparison>> split_labels(std::vector<Comparison> items,
                                                                         double validation_fraction,
                                                                         std::uint64_t seed) {
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) {
    throw Error("validation fraction must be in [0, 1), got " + std::to_string(validation_fraction));
  }
  const std::size_t n = items.size();
  const auto num_validation = static_cast<std::size_t>(std::llround(validation_fraction * static_cast<double>(n)));
  if (num_validation >= n) {
    throw Error("cannot split " + std::to_string(n) + " labels with validation fraction " +
                std::to_string(validation_fraction) + ": no training labels would be left");
  }
  const std::vector<std::size_t> order = shuffled_indices(n, seed);
  std::vector<bool> is_validation(n, false);
  for (std::size_t i = 0; i < num_validation; ++i) is_validation[order[i]] = true;

  std::pair<std::vector<Comparison>, std::vector<Comparison>> parts;
  parts.first.reserve(n - num_validation);
  parts.second.reserve(num_validation);
  for (std::size_t i = 0; i < n; ++i) (is_validation[i] ? parts.second : parts.first).push_back(std::move(items[i]));
  return parts;
}

nlohmann::ordered_json labeler_info_json(const Comparison& c) {
  return {{"labeler_scores", c.labeler_scores}, {"labeler_noise", c.labeler_noise}};
}

void write_text_labels(const fs::path& path, const std::vector<Comparison>& items,
                       const tokenizer::Tokenizer& tokenizer, int pad_id) {
  const auto text_of = [&](const std::vector<int>& ids) {
    std::vector<int> real;
    real.reserve(ids.size());
    for (int id : ids) {
      if (id != pad_id) real.push_back(id);
    }
    return tokenizer.decode(real);
  };
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Comparison& c = items[i];
    nlohmann::ordered_json record;
    try {
      record["query"] = text_of(c.query);
      record["samples"] = nlohmann::ordered_json::array();
      for (const auto& sample : c.samples) record["samples"].push_back(text_of(sample));
    } catch (const Error& e) {
      throw_file_error(path.string(), "item " + std::to_string(i) + ": " + e.what());
    }
    record["best"] = c.best;
    if (!c.labeler_scores.empty()) record["info"] = labeler_info_json(c);
    out += record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace rlhf::data
