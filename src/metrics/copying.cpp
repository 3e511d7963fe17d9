#include "rlhf/metrics/copying.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "rlhf/metrics/sentences.h"

namespace rlhf::metrics {
namespace {

constexpr std::size_t kHistogramBins = 11;  // sentences 0..9, then 10 or later

struct Word {
  std::string_view text;
  std::size_t offset = 0;  // byte offset in the text it came from
};

std::vector<Word> split_words(std::string_view text) {
  std::vector<Word> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.push_back({text.substr(start, i - start), start});
  }
  return words;
}

// Both word lists as integer ids (equal ids = equal bytes), so the span search compares integers.
void to_ids(const std::vector<Word>& a, const std::vector<Word>& b, std::vector<int>& ids_a, std::vector<int>& ids_b) {
  std::unordered_map<std::string_view, int> ids;
  auto id = [&](std::string_view w) { return ids.emplace(w, static_cast<int>(ids.size())).first->second; };
  for (const Word& w : a) ids_a.push_back(id(w.text));
  for (const Word& w : b) ids_b.push_back(id(w.text));
}

std::size_t sentence_index_at(std::string_view source, std::size_t offset) {
  const auto sentences = split_sentences(source);
  const auto after = std::upper_bound(sentences.begin(), sentences.end(), offset,
                                      [](std::size_t o, const Sentence& s) { return o < s.begin; });
  return after == sentences.begin() ? 0 : static_cast<std::size_t>(after - sentences.begin()) - 1;
}

std::size_t shared_prefix_words(std::string_view summary, std::string_view source) {
  const auto a = split_words(summary);
  const auto b = split_words(source);
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n].text == b[n].text) ++n;
  return n;
}

std::vector<double> as_doubles(const std::vector<CopyStats>& stats, double (*get)(const CopyStats&)) {
  std::vector<double> out;
  out.reserve(stats.size());
  for (const auto& s : stats) out.push_back(get(s));
  return out;
}

}  // namespace

bool is_copied_sentence(std::string_view sentence, std::string_view normalized_source) {
  const std::string needle = normalize_whitespace(sentence);
  if (needle.empty()) return false;
  for (std::size_t at = normalized_source.find(needle); at != std::string_view::npos;
       at = normalized_source.find(needle, at + 1)) {
    if (at == 0 || normalized_source[at - 1] == ' ') return true;
  }
  return false;
}

CopySpan longest_copied_span(std::string_view summary, std::string_view source) {
  const auto summary_words = split_words(summary);
  const auto source_words = split_words(source);
  std::vector<int> a, b;
  to_ids(summary_words, source_words, a, b);
  // run[j] = length of the common run ending at summary word i and source word j - 1 (one row of the
  // longest-common-substring table; updated right to left so run[j - 1] still holds the last row).
  std::vector<std::size_t> run(b.size() + 1, 0);
  std::size_t best = 0, best_i = 0, best_j = 0;  // best_i, best_j: the span's last words
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = b.size(); j >= 1; --j) {
      run[j] = a[i] == b[j - 1] ? run[j - 1] + 1 : 0;
      // Strictly longer only, and ends visited in summary order then source order: the first span of
      // the best length wins (spans of equal length ending earlier also start earlier).
      if (run[j] > best || (run[j] == best && best > 0 && i == best_i && j - 1 < best_j)) {
        best = run[j];
        best_i = i;
        best_j = j - 1;
      }
    }
  }
  CopySpan span;
  if (best == 0) return span;
  span.words = best;
  span.summary_word = best_i + 1 - best;
  span.source_word = best_j + 1 - best;
  span.source_offset = source_words[span.source_word].offset;
  span.source_sentence = sentence_index_at(source, span.source_offset);
  span.relative_offset = static_cast<double>(span.source_offset) / static_cast<double>(source.size());
  return span;
}

CopyStats copy_stats(std::string_view summary, std::string_view source) {
  CopyStats stats;
  const std::string normalized_source = normalize_whitespace(source);
  const auto sentences = sentence_texts(summary);
  stats.sentences = sentences.size();
  for (std::string_view sentence : sentences) {
    if (is_copied_sentence(sentence, normalized_source)) ++stats.copied_sentences;
  }
  if (!sentences.empty()) {
    const std::string first = normalize_whitespace(sentences.front());
    stats.copies_start = normalized_source.compare(0, first.size(), first) == 0;
  }
  stats.start_prefix_words = shared_prefix_words(summary, source);
  stats.longest = longest_copied_span(summary, source);
  return stats;
}

CopySummary summarize_copying(const std::vector<CopyStats>& stats, const BootstrapOptions& bootstrap) {
  CopySummary c;
  c.summaries = stats.size();
  std::vector<double> copied, totals;
  c.span_sentence_histogram.assign(kHistogramBins, 0);
  for (const auto& s : stats) {
    c.sentences += s.sentences;
    c.copied_sentences += s.copied_sentences;
    copied.push_back(static_cast<double>(s.copied_sentences));
    totals.push_back(static_cast<double>(s.sentences));
    if (s.longest.words == 0) {
      ++c.without_span;
    } else {
      ++c.span_sentence_histogram[std::min(s.longest.source_sentence, kHistogramBins - 1)];
    }
  }
  c.copied_share = pooled_ratio(copied, totals);
  c.novelty = {c.sentences > 0 ? 1 - c.copied_share.value : 0.0, c.copied_share.standard_error};
  c.copies_start = aggregate(as_doubles(stats, [](const CopyStats& s) { return s.copies_start ? 1.0 : 0.0; }), bootstrap);
  c.start_prefix_words =
      aggregate(as_doubles(stats, [](const CopyStats& s) { return static_cast<double>(s.start_prefix_words); }), bootstrap);
  c.longest_span_words =
      aggregate(as_doubles(stats, [](const CopyStats& s) { return static_cast<double>(s.longest.words); }), bootstrap);
  return c;
}

}  // namespace rlhf::metrics
