// Human comparison labels: "which of these N continuations of the query is best".
//
// Two file formats:
//   openai  One JSON array of records {"query": [ids], "sample0": [ids], ..., "sample{N-1}": [ids],
//           "best": k}, as released with the paper (labels/*/offline_5k.json, online_45k.json). The ids
//           are GPT-2 BPE ids, padded with 50259 (kOpenAiPad). Other keys are ignored, except "info".
//   jsonl   One JSON object per line {"query": "text", "samples": ["text", ...], "best": k}, tokenized
//           here with the given tokenizer. Blank lines are ignored.
// Both may carry what a mock labeler saw in an optional "info": {"labeler_scores": [N numbers],
// "labeler_noise": p} (rlhf's own addition; OpenAI's loader reads only the keys it knows), from which
// the accuracy ceiling of the labels is computed (ceiling.h). Other keys inside "info" are ignored.
// Every record is checked (types, ids inside the vocabulary, `best` in range, the same N everywhere,
// lengths); a bad record is an error naming the file, the record (and line) and the field, unless
// `skip_bad_records` is set, in which case it is skipped, counted and reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "rlhf/config/config.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::data {

// The pad id inside OpenAI's label files and query batches: len(encoder) + 2 = 50257 + 2.
constexpr int kOpenAiPad = 50259;

// One labeled question.
struct Comparison {
  std::vector<int> query;                 // token ids as stored; may contain pad ids (masked later, never embedded)
  std::vector<std::vector<int>> samples;  // N candidate continuations, token ids; may contain pad ids
  int best = 0;                           // index into `samples` of the one the labeler chose
  // What a mock labeler saw (empty for people and files without it): its score of each sample, and
  // the probability that its answer was a uniformly random index instead of a top-scoring one.
  std::vector<double> labeler_scores = {};
  double labeler_noise = 0;
};

struct LabelOptions {
  std::string format = "auto";    // auto | openai | jsonl; auto: a JSON array -> openai, JSON objects -> jsonl
  int pad_id = kOpenAiPad;        // the pad id inside openai files (allowed besides vocabulary ids)
  int max_query_length = 0;       // 0 = no limit; counts every stored id, pads included
  int max_sample_length = 0;      // 0 = no limit; counts every stored id, pads included
  bool skip_bad_records = false;  // false: the first bad record is an error; true: skip, count and warn
  std::uint64_t limit = 0;        // 0 = all; else exactly the first `limit` good records (fewer is an error)

  template <class V>
  void visit(V& v) {
    v.field("format", format,
            "Label file format: auto (by content), openai (JSON array of token-id records) or "
            "jsonl (one {query, samples, best} text object per line)",
            config::OneOf{{"auto", "openai", "jsonl"}});
    v.field("pad_id", pad_id, "Pad id inside openai-format files (50259 in OpenAI's files)",
            config::Range::at_least(0));
    v.field("max_query_length", max_query_length,
            "Longest allowed query in tokens, pads included; longer is a bad record; 0 = no limit",
            config::Range::at_least(0));
    v.field("max_sample_length", max_sample_length,
            "Longest allowed sample in tokens, pads included; longer is a bad record; 0 = no limit",
            config::Range::at_least(0));
    v.field("skip_bad_records", skip_bad_records,
            "Skip bad records (counted, first reasons logged) instead of stopping at the first one");
    v.field("limit", limit,
            "Use only the first `limit` good records (the paper's num_train); fewer in the file is an error; "
            "0 = all");
  }
};

struct LabelSet {
  std::vector<Comparison> items;
  int num_samples = 0;                    // N, the same for every item
  std::size_t skipped = 0;                // bad records skipped (skip_bad_records only)
  std::vector<std::string> skip_reasons;  // the first 10 reasons, each "record R: field: what"
};

// Reads and checks a label file. Throws rlhf::Error "PATH: record R: FIELD: what" (with "line L" for
// jsonl) on the first bad record, or "PATH: ..." for a file that is missing, empty, not JSON, has no
// records, has only bad records or fewer than `limit` good ones.
LabelSet read_labels(const std::filesystem::path& path, const tokenizer::Tokenizer& tokenizer,
                     const LabelOptions& options);

// The same for question files (`rlhf sample-for-labels`): `best` may be absent (then -1); when present
// it is checked as in read_labels.
LabelSet read_questions(const std::filesystem::path& path, const tokenizer::Tokenizer& tokenizer,
                        const LabelOptions& options);

// Splits off round(validation_fraction * size) items, chosen by a seeded shuffle (shuffled_indices:
// Python's random.shuffle with `seed`), as the validation set. Both parts keep the input order.
// validation_fraction must be in [0, 1) and leave at least one training item.
std::pair<std::vector<Comparison>, std::vector<Comparison>> split_labels(std::vector<Comparison> items,
                                                                         double validation_fraction,
                                                                         std::uint64_t seed);

// A record's "info" for what the labeler saw: {"labeler_scores": [...], "labeler_noise": p}.
nlohmann::ordered_json labeler_info_json(const Comparison& c);

// Writes `items` as jsonl text labels (with "info" where an item carries labeler scores) (atomically). Ids equal to
// `pad_id` are dropped before decoding; bytes that are not valid UTF-8 (a token cut mid-character) become U+FFFD.
// Reading the file back gives the same texts, but not necessarily the same ids: BPE re-encodes the text in its own way.
void write_text_labels(const std::filesystem::path& path, const std::vector<Comparison>& items,
                       const tokenizer::Tokenizer& tokenizer, int pad_id = kOpenAiPad);

}  // namespace rlhf::data
