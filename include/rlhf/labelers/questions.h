// Questions for labelers (paper-spec section 5): for each query, N responses sampled from a policy,
// with the paper's rejection sampling for samples shown to people: "we use rejection sampling to
// ensure there is a period between tokens 16 and 24 and then truncate at that period". A sample is
// redrawn until it holds the truncate token at an index in [truncate_after, response_length); it is
// then truncated after the first such token (everything after it becomes pad_id; the token is kept).
// This is unlike PPO, which never redraws (it truncates and gives a penalty score instead).
//
// Files: the OpenAI label schema (a JSON array of {"query", "sample0".."sample{N-1}"} token ids, with
// "best" once labeled) and a readable text rendering.
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "rlhf/config/constraints.h"
#include "rlhf/data/labels.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::labelers {

struct QuestionOptions {
  int num_samples = 4;       // N responses per question (the paper: 4)
  int response_length = 24;  // tokens drawn per response (books 24)
  double temperature = 0.7;  // sampling temperature (books 0.7)
  int truncate_token = 13;   // "." (books); 198 "\n" (summarization); -1 = no rejection, no truncation
  int truncate_after = 16;   // the truncate token must be at a 0-based index >= this (books 16)
  int max_attempts = 50;     // draws per sample before giving up and keeping the last one
  int batch_size = 64;       // rows (query, sample) drawn together

  template <class V>
  void visit(V& v) {
    v.field("num_samples", num_samples, "Responses per question (the paper: 4)", config::Range::at_least(2));
    v.field("response_length", response_length, "Tokens sampled per response", config::Range::at_least(1));
    v.field("temperature", temperature, "Sampling temperature", config::Range::greater_than(0.0));
    v.field("truncate_token", truncate_token,
            "Rejection sampling: redraw until this token appears at index >= truncate_after, then cut after it; "
            "-1 = off",
            config::Range::at_least(-1));
    v.field("truncate_after", truncate_after, "First 0-based index at which the truncate token counts",
            config::Range::at_least(0));
    v.field("max_attempts", max_attempts, "Draws per sample before the last draw is kept anyway (counted)",
            config::Range::at_least(1));
    v.field("batch_size", batch_size, "Rows sampled together", config::Range::at_least(1));
  }
  void check() const;  // a truncate token needs truncate_after < response_length
};

struct QuestionStats {
  std::size_t questions = 0;  // items returned
  std::size_t samples = 0;    // questions * num_samples
  std::size_t draws = 0;      // responses drawn, redraws included
  std::size_t gave_up = 0;    // samples kept after max_attempts draws without a truncate token in the window
};

// The rule on one response: the index of its first truncate_token at an index >= truncate_after, or -1.
int truncation_index(const std::vector<int>& response, int truncate_token, int truncate_after);

// One draw of responses: context int64 [R, Tc] and context_mask bool [R, Tc] (CPU) -> int64
// [R, response_length]. The real one samples the policy; tests pass scripted ones.
using DrawFunction = std::function<at::Tensor(const at::Tensor& context, const at::Tensor& context_mask)>;

// contexts[i]: the policy input (prefix + padded query + suffix; pad_id positions are masked);
// raw_queries[i]: the query stored in the comparison (the padded query alone). Returns one item per
// query, in order, with num_samples samples each and best = -1. Rows are drawn batch_size at a time;
// within a batch only the rows that failed the rule are redrawn. After max_attempts draws a row keeps
// its last draw, truncated after its LAST truncate token if it has one before truncate_after (the
// longest prefix that ends a sentence), else whole; it is counted in gave_up.
std::vector<data::Comparison> sample_questions(const DrawFunction& draw, const std::vector<std::vector<int>>& contexts,
                                               const std::vector<std::vector<int>>& raw_queries,
                                               const QuestionOptions& options, int pad_id,
                                               QuestionStats* stats = nullptr);

// The same with draws from `policy` (on its device, at options.temperature, exactly response_length
// tokens, no stop at end-of-text). Seeds the default generators with `seed` first, so the result is a
// function of the seed and the options.
std::vector<data::Comparison> sample_questions(model::Gpt2Impl& policy, const std::vector<std::vector<int>>& contexts,
                                               const std::vector<std::vector<int>>& raw_queries,
                                               const QuestionOptions& options, int pad_id, std::uint64_t seed,
                                               QuestionStats* stats = nullptr);

// OpenAI-schema file (atomic): a JSON array, one record per line, {"query", "sample0", ...} and, when
// with_best, "best" (every item must then have best in [0, N)) and, for items that carry the labeler's
// scores, "info" (data::labeler_info_json).
void write_questions(const std::filesystem::path& path, const std::vector<data::Comparison>& items, bool with_best);

// A readable rendering (atomic): for each question its number, the query and the numbered samples,
// decoded with pads dropped and shown as JSON strings (the chosen one marked with * once labeled).
void write_questions_text(const std::filesystem::path& path, const std::vector<data::Comparison>& items,
                          const tokenizer::Tokenizer& tokenizer, int pad_id);

// Where the text rendering of a questions or labels file goes: its path with the extension replaced
// by .txt (with .txt appended when it already is .txt).
std::filesystem::path text_rendering_path(const std::filesystem::path& questions_file);

}  // namespace rlhf::labelers
