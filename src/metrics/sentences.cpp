#include "rlhf/metrics/sentences.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace rlhf::metrics {
namespace {

bool is_terminal(char c) { return c == '.' || c == '!' || c == '?'; }

// The length of a closing quote or bracket at text[i] (0 if none): " ' ) ] and U+201D, U+2019.
std::size_t closer_length(std::string_view text, std::size_t i) {
  const char c = text[i];
  if (c == '"' || c == '\'' || c == ')' || c == ']') return 1;
  if (text.compare(i, 3, "\xE2\x80\x9D") == 0 || text.compare(i, 3, "\xE2\x80\x99") == 0) return 3;
  return 0;
}

std::string lower_ascii(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "U", "U.S", "e.g": one letter, or single letters joined by dots.
bool is_initials(std::string_view word) {
  if (word.empty()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const bool letter_place = i % 2 == 0;
    const bool ok = letter_place ? std::isalpha(static_cast<unsigned char>(word[i])) != 0 : word[i] == '.';
    if (!ok) return false;
  }
  return word.size() % 2 == 1;
}

// Whether the '.' at text[dot] follows an abbreviation (rule 3).
bool after_abbreviation(std::string_view text, std::size_t dot) {
  std::size_t start = dot;
  while (start > 0 && !is_space(text[start - 1])) --start;
  std::string_view word = text.substr(start, dot - start);
  while (!word.empty() && (word.front() == '(' || word.front() == '"' || word.front() == '\'' || word.front() == '[')) {
    word.remove_prefix(1);
  }
  static const std::array<const char*, 9> kTitles = {"mr", "mrs", "ms", "dr", "prof", "jr", "sr", "st", "vs"};
  const std::string lower = lower_ascii(word);
  const bool title = std::any_of(kTitles.begin(), kTitles.end(), [&](const char* t) { return lower == t; });
  return title || is_initials(word);
}

// Where the sentence that has a terminal run starting at text[i] ends (past closers), or npos when
// the run does not end a sentence (rules 2 and 3).
std::size_t sentence_end_at(std::string_view text, std::size_t i) {
  std::size_t end = i;
  while (end < text.size() && is_terminal(text[end])) ++end;
  const bool single_dot = end == i + 1 && text[i] == '.';
  while (end < text.size()) {
    const std::size_t length = closer_length(text, end);
    if (length == 0) break;
    end += length;
  }
  if (end < text.size() && !is_space(text[end])) return std::string_view::npos;
  if (single_dot && after_abbreviation(text, i)) return std::string_view::npos;
  return end;
}

void add_trimmed(std::string_view text, std::size_t begin, std::size_t end, std::vector<Sentence>& out) {
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  if (begin < end) out.push_back({begin, end});
}

}  // namespace

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<Sentence> split_sentences(std::string_view text) {
  std::vector<Sentence> sentences;
  std::size_t begin = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      add_trimmed(text, begin, i, sentences);
      begin = ++i;
    } else if (is_terminal(text[i])) {
      const std::size_t end = sentence_end_at(text, i);
      if (end == std::string_view::npos) {
        ++i;
        continue;
      }
      add_trimmed(text, begin, end, sentences);
      begin = i = end;
    } else {
      ++i;
    }
  }
  add_trimmed(text, begin, text.size(), sentences);
  return sentences;
}

std::vector<std::string_view> sentence_texts(std::string_view text) {
  std::vector<std::string_view> out;
  for (const Sentence& s : split_sentences(text)) out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

std::string lead_sentences(std::string_view source, std::size_t n) {
  const auto sentences = split_sentences(source);
  if (n == 0 || sentences.empty()) return "";
  const Sentence& last = sentences[std::min(n, sentences.size()) - 1];
  return std::string(source.substr(sentences.front().begin, last.end - sentences.front().begin));
}

std::string normalize_whitespace(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

}  // namespace rlhf::metrics
