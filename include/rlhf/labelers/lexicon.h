// A weighted word list: the mock sentiment labeler of the paper's mock experiments (a programmatic
// stand-in for the human, or for the paper's sentiment classifier). configs/sentiment-lexicon.json is
// the one we ship.
//
// File: {"description": text, "words": {"good": 2, "terrible": -3, ...},
//        "negation": {"words": ["not", "never", ...], "suffix": "n't", "window": 2}}   ("negation" optional)
// A lexicon may extend another: "extends": "other.json" (relative to this file) takes the other's words,
// negation and description first; this file's words then add to them or replace their weights, and
// its "negation", if given, replaces the other's (configs/demo-lexicon.json extends the sentiment one).
//
// Scoring rule (no normalisation: a longer text with more listed words scores further from 0):
//   score(text) = sum over the text's words w that are listed of sign(w) * weight(w), where
//   - words are maximal runs of ASCII letters and apostrophes (U+2019 counts as an apostrophe),
//     lower-cased, with apostrophes at either end removed ("'Good'" -> good, "isn't" stays isn't);
//   - sign(w) = -1 when one of the `window` words right before w is a negator (a word of
//     negation.words, or one ending in negation.suffix) and no clause mark . , ; : ! ? lies between
//     them; else +1. "not bad" = +2, "never, ever good" = +2 (the comma ends the negation).
//   - no stemming: inflections are listed separately.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rlhf::labelers {

class Lexicon {
 public:
  // Reads and checks a lexicon file. Throws rlhf::Error "PATH: FIELD: what" for a missing file, bad
  // JSON, a word that is not lower-case letters and apostrophes, or a weight that is not a finite number.
  static Lexicon load(const std::filesystem::path& json_file);
  // The same from parsed JSON; `source` starts the error messages.
  static Lexicon from_json(const nlohmann::json& j, const std::string& source);

  double score(std::string_view text) const;

  // The weight of a (lower-case) word, if listed.
  std::optional<double> weight(std::string_view word) const;
  bool is_negator(std::string_view word) const;
  std::size_t size() const { return weights_.size(); }
  const std::string& description() const { return description_; }

  // One unit of a text as the scorer sees it: a word, or a clause mark ("" word, clause_break true).
  struct Piece {
    std::string word;
    bool clause_break = false;
  };
  // The text split by the rule above.
  static std::vector<Piece> split(std::string_view text);

 private:
  std::unordered_map<std::string, double> weights_;
  std::unordered_set<std::string> negators_;
  std::string negation_suffix_;
  int negation_window_ = 0;
  std::string description_;

  // `depth`: how many lexicons extend this one (a bound against cycles).
  static Lexicon load(const std::filesystem::path& json_file, int depth);
  static Lexicon from_json(const nlohmann::json& j, const std::string& source, int depth);
};

}  // namespace rlhf::labelers
