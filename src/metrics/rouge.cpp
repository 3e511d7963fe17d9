#include "rlhf/metrics/rouge.h"

#include <libstemmer.h>

#include <algorithm>
#include <unordered_map>

#include "rlhf/util/error.h"

namespace rlhf::metrics {
namespace {

bool is_token_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The ASCII letter that Python's str.lower() gives for the UTF-8 character at text[i], if any, with
// its length in bytes. Only U+0130 and U+212A lower-case to ASCII: U+0130 to "i" + U+0307 (a combining
// dot, which then separates: `ends_token`), U+212A to "k".
std::size_t non_ascii_lower(std::string_view text, std::size_t i, char& letter, bool& ends_token) {
  if (text.compare(i, 2, "\xC4\xB0") == 0) {
    letter = 'i';
    ends_token = true;
    return 2;
  }
  if (text.compare(i, 3, "\xE2\x84\xAA") == 0) {
    letter = 'k';
    ends_token = false;
    return 3;
  }
  return 0;
}

// n-grams as keys "tok1 tok2 ..." (tokens never hold spaces) with their counts.
std::unordered_map<std::string, int> count_ngrams(const std::vector<std::string>& tokens, int n) {
  std::unordered_map<std::string, int> counts;
  for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
    std::string key = tokens[i];
    for (int k = 1; k < n; ++k) key += ' ' + tokens[i + k];
    ++counts[key];
  }
  return counts;
}

RougeScore from_matches(std::size_t matches, std::size_t prediction_count, std::size_t reference_count) {
  RougeScore s;
  s.precision = static_cast<double>(matches) / static_cast<double>(std::max<std::size_t>(prediction_count, 1));
  s.recall = static_cast<double>(matches) / static_cast<double>(std::max<std::size_t>(reference_count, 1));
  s.f1 = f1_score(s.precision, s.recall);
  return s;
}

}  // namespace

std::vector<std::string> rouge_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    char letter = 0;
    bool ends_token = false;
    if (is_token_char(c)) {
      current += c;
      ++i;
    } else if (std::size_t length = non_ascii_lower(text, i, letter, ends_token)) {
      current += letter;
      if (ends_token) flush();
      i += length;
    } else {
      flush();
      ++i;
    }
  }
  flush();
  return tokens;
}

double f1_score(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

RougeScore rouge_n(const std::vector<std::string>& prediction, const std::vector<std::string>& reference, int n) {
  if (n < 1) throw Error("ROUGE-N needs n >= 1, got " + std::to_string(n));
  const auto predicted = count_ngrams(prediction, n);
  const auto wanted = count_ngrams(reference, n);
  std::size_t matches = 0;
  for (const auto& [ngram, count] : wanted) {
    const auto it = predicted.find(ngram);
    if (it != predicted.end()) matches += static_cast<std::size_t>(std::min(count, it->second));
  }
  const auto total = [n](const std::vector<std::string>& tokens) {
    return tokens.size() >= static_cast<std::size_t>(n) ? tokens.size() - n + 1 : 0;
  };
  return from_matches(matches, total(prediction), total(reference));
}

std::size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // row[j] = LCS of a[0..i) and b[0..j); `diagonal` holds the previous row's row[j - 1].
  std::vector<std::size_t> row(b.size() + 1, 0);
  for (const auto& token : a) {
    std::size_t diagonal = 0;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = token == b[j - 1] ? diagonal + 1 : std::max(above, row[j - 1]);
      diagonal = above;
    }
  }
  return row.back();
}

RougeScore rouge_l(const std::vector<std::string>& prediction, const std::vector<std::string>& reference) {
  if (prediction.empty() || reference.empty()) return {};
  return from_matches(lcs_length(prediction, reference), prediction.size(), reference.size());
}

void Rouge::StemmerDeleter::operator()(sb_stemmer* stemmer) const { sb_stemmer_delete(stemmer); }

Rouge::Rouge(bool stem) {
  if (!stem) return;
  stemmer_.reset(sb_stemmer_new("porter", "UTF_8"));
  if (!stemmer_) throw Error("libstemmer has no Porter stemmer for UTF-8 (is libstemmer0d installed?)");
}

Rouge::~Rouge() = default;
Rouge::Rouge(Rouge&&) noexcept = default;
Rouge& Rouge::operator=(Rouge&&) noexcept = default;

const std::string& Rouge::stem(const std::string& token) {
  // A corpus repeats its words: the cache saves most stemmer calls. Bounded so that an endless
  // stream of distinct tokens cannot grow it without limit.
  if (const auto it = cache_.find(token); it != cache_.end()) return it->second;
  if (cache_.size() >= (1u << 20)) cache_.clear();
  const sb_symbol* stemmed = sb_stemmer_stem(stemmer_.get(), reinterpret_cast<const sb_symbol*>(token.data()),
                                             static_cast<int>(token.size()));
  if (stemmed == nullptr) throw Error("libstemmer: out of memory while stemming \"" + token + "\"");
  std::string value(reinterpret_cast<const char*>(stemmed), static_cast<std::size_t>(sb_stemmer_length(stemmer_.get())));
  return cache_.emplace(token, std::move(value)).first->second;
}

std::vector<std::string> Rouge::tokenize(std::string_view text) {
  std::vector<std::string> tokens = rouge_tokens(text);
  if (!stemmer_) return tokens;
  for (auto& token : tokens) {
    if (token.size() > 3) token = stem(token);
  }
  return tokens;
}

RougeScores Rouge::score(std::string_view prediction, std::string_view reference) {
  const auto predicted = tokenize(prediction);
  const auto wanted = tokenize(reference);
  return {rouge_n(predicted, wanted, 1), rouge_n(predicted, wanted, 2), rouge_l(predicted, wanted)};
}

RougeScores rouge(const std::string& prediction, const std::string& reference, bool stem) {
  return Rouge(stem).score(prediction, reference);
}

}  // namespace rlhf::metrics
