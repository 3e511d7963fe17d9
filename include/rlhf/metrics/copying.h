// How much a summary copies its source: the paper's statistics (paper-spec section 6: sentence novelty,
// "RL copies the start of the input 77.6% of the time on CNN/DM") made precise.
//
// Words are maximal runs of non-whitespace bytes (punctuation stays attached: "arrested." is one
// word). Normalised text is the text with each run of whitespace replaced by one space and the ends
// trimmed (normalize_whitespace), so line breaks and double spaces never decide a match. Matching is
// exact otherwise: case, punctuation and Unicode are compared byte for byte. Sentences come from
// split_sentences (sentences.h).
//
//   copied sentence   A summary sentence whose normalised text occurs in the normalised source starting
//                     at the start of a word (the start of the source or right after a space). It may
//                     end inside a word, so a sampled summary cut off mid-sentence ("The man was
//                     arrested" from "... was arrested.") still counts as copied.
//   copied share      copied sentences / summary sentences; sentence novelty = 1 - copied share (the
//                     paper reports novelty in %: reference summaries 96.7, RL 2.5 on CNN/DM).
//   copies start      The summary has a sentence and its first sentence, normalised, is a prefix of the
//                     normalised source: the summary begins by copying the source's opening verbatim.
//   start prefix      The number of leading words the summary and the source have in common (compare
//                     words one by one from the start), for other thresholds than "a whole sentence".
//   longest span      The longest run of consecutive summary words that also occurs as consecutive words
//                     of the source (word for word, exactly). Ties go to the one that starts first in the
//                     summary, then first in the source. Its position in the source is reported as the
//                     word index, the byte offset of its first word, the index of the source sentence
//                     holding that byte, and offset / source size (for histograms over sources of
//                     different lengths). No span (no summary word occurs in the source) gives words = 0.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "rlhf/metrics/aggregate.h"

namespace rlhf::metrics {

struct CopySpan {
  std::size_t words = 0;            // length in words; 0 = no span
  std::size_t summary_word = 0;     // index of its first word among the summary's words
  std::size_t source_word = 0;      // index of its first word among the source's words
  std::size_t source_offset = 0;    // byte offset of that word in the source
  std::size_t source_sentence = 0;  // index (split_sentences) of the source sentence holding that byte
  double relative_offset = 0;       // source_offset / source size, in [0, 1)
};

struct CopyStats {
  std::size_t sentences = 0;           // sentences of the summary
  std::size_t copied_sentences = 0;    // of them, copied from the source
  bool copies_start = false;           // the first summary sentence is the source's opening
  std::size_t start_prefix_words = 0;  // leading words shared with the source
  CopySpan longest;                    // the longest copied span of words
};

CopyStats copy_stats(std::string_view summary, std::string_view source);

// The longest copied span alone (see above), with offsets into `source`.
CopySpan longest_copied_span(std::string_view summary, std::string_view source);

// Whether `sentence` is copied from `normalized_source` (see "copied sentence" above).
bool is_copied_sentence(std::string_view sentence, std::string_view normalized_source);

// Corpus view. Shares pool every sentence of every summary (the paper's "% of summary sentences"),
// with the ratio estimator's standard error across summaries (pooled_ratio).
struct CopySummary {
  std::size_t summaries = 0;
  std::size_t sentences = 0;
  std::size_t copied_sentences = 0;
  Ratio copied_share;                    // copied_sentences / sentences
  Ratio novelty;                         // 1 - copied share, same standard error
  Aggregate copies_start;                // share of summaries that copy the start (0/1 per summary)
  Aggregate start_prefix_words;          // mean leading words shared with the source
  Aggregate longest_span_words;          // mean length of the longest copied span
  std::vector<std::size_t> span_sentence_histogram;  // summaries whose longest span starts in source
                                                     // sentence 0, 1, ..., 9, and 10 or later (11 bins)
  std::size_t without_span = 0;          // summaries with no copied word (not in the histogram)
};

CopySummary summarize_copying(const std::vector<CopyStats>& stats, const BootstrapOptions& bootstrap = {});

}  // namespace rlhf::metrics
