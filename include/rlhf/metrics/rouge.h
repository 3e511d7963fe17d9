// ROUGE-1, ROUGE-2 and ROUGE-L (sentence level) as Google's `rouge_score` package defines them
// (rouge_scorer.py, tokenize.py, scoring.py), so numbers compare with published tables.
//
// Tokens: the text is lower-cased, every character outside [a-z0-9] becomes a separator, and the
// pieces are the tokens. Lower-casing follows Python's str.lower() where it matters: of all non-ASCII
// characters only U+0130 (I with dot, -> "i" + a combining dot) and U+212A (Kelvin sign, -> "k")
// lower-case to ASCII letters, so those two count as 'i' and 'k'; every other non-ASCII character
// separates tokens ("café" -> "caf"). With stemming, tokens longer than 3 characters are replaced by
// their Porter stem.
//
// Stemmer: Snowball's "porter" (Debian's libstemmer), not NLTK's PorterStemmer() that rouge_score uses.
// Measured on the 31,886 words of Debian's fortunes and 1.57 million forms built from them with
// suffixes (scripts/rouge_reference.py documents the run):
//   - NLTK mode ORIGINAL_ALGORITHM agrees with Snowball except (a) undoubling after -ed/-ing: Snowball
//     undoubles only bb dd ff gg mm nn pp rr tt, NLTK every double consonant but l s z ("revved":
//     Snowball "revv", NLTK "rev"), and (b) words with "yy". The independent checker uses this mode.
//   - NLTK's default NLTK_EXTENSIONS (rouge_score's) stems 580 of the 29,504 fortune words longer than
//     3 characters differently ("always" alwai/alway, "dying" dy/die, "skies" ski/sky) and puts 334 of
//     them (1.1%) into a different group of words with the same stem, so stemmed scores can differ
//     slightly from rouge_score's. Unstemmed scores are identical.
//
// Scores, with P = precision (matches / prediction count) and R = recall (matches / reference count):
//   ROUGE-N: matches = sum over distinct n-grams g of min(count_pred(g), count_ref(g)) (clipped);
//            P and R divide by max(count, 1), so an empty side gives 0, never a division by zero.
//   ROUGE-L: matches = length of the longest common subsequence of the two token sequences;
//            0 when either side has no tokens.
//   F1 = 2PR / (P + R), and 0 when P + R = 0. Two empty texts score 0, as in rouge_score.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sb_stemmer;  // libstemmer's handle (kept out of this header)

namespace rlhf::metrics {

struct RougeScore {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
};

struct RougeScores {
  RougeScore rouge1;
  RougeScore rouge2;
  RougeScore rougeL;
};

// rouge_score's tokens before stemming (lower-case, [a-z0-9] runs).
std::vector<std::string> rouge_tokens(std::string_view text);

// The F-measure of rouge_score: 2PR / (P + R), 0 when P + R = 0.
double f1_score(double precision, double recall);

// ROUGE-N (n >= 1, else rlhf::Error) and ROUGE-L of two token sequences.
RougeScore rouge_n(const std::vector<std::string>& prediction, const std::vector<std::string>& reference, int n);
RougeScore rouge_l(const std::vector<std::string>& prediction, const std::vector<std::string>& reference);

// Length of the longest common subsequence (dynamic programming, O(|a| |b|) time, O(|b|) memory).
std::size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b);

// A scorer with its own stemmer and stem cache. libstemmer's stemmer is not thread-safe, so each
// object owns one: use one Rouge per thread.
class Rouge {
 public:
  explicit Rouge(bool stem = true);
  ~Rouge();
  Rouge(Rouge&&) noexcept;
  Rouge& operator=(Rouge&&) noexcept;
  Rouge(const Rouge&) = delete;
  Rouge& operator=(const Rouge&) = delete;

  bool stems() const { return static_cast<bool>(stemmer_); }

  // rouge_tokens, then the Porter stem of tokens longer than 3 characters (when stemming).
  std::vector<std::string> tokenize(std::string_view text);

  RougeScores score(std::string_view prediction, std::string_view reference);

 private:
  struct StemmerDeleter {
    void operator()(sb_stemmer* stemmer) const;
  };
  const std::string& stem(const std::string& token);

  std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer_;  // null when not stemming
  std::unordered_map<std::string, std::string> cache_;   // token -> stem; a corpus repeats words a lot
};

// One-off convenience (builds a stemmer per call; use a Rouge object for a corpus).
RougeScores rouge(const std::string& prediction, const std::string& reference, bool stem = true);

}  // namespace rlhf::metrics
