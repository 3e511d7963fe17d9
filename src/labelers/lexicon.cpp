#include "rlhf/labelers/lexicon.h"

#include <cmath>
#include <limits>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

using json = nlohmann::json;

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr int kMaxExtends = 8;  // lexicons extending lexicons, at most this deep

bool is_clause_mark(char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?';
}

// A valid lexicon entry: lower-case ASCII letters and inner apostrophes, as split() produces them.
bool is_valid_word(const std::string& w) {
  if (w.empty() || w.front() == '\'' || w.back() == '\'') return false;
  for (char c : w) {
    if (!((c >= 'a' && c <= 'z') || c == '\'')) return false;
  }
  return true;
}

void check_keys(const json& object, std::initializer_list<const char*> allowed, const std::string& source,
                const std::string& where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (const char* name : allowed) known = known || it.key() == name;
    if (!known) {
      std::string list;
      for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
      throw_file_error(source, where + "unknown key \"" + it.key() + "\" (expected " + list + ")");
    }
  }
}

}  // namespace

std::vector<Lexicon::Piece> Lexicon::split(std::string_view text) {
  std::vector<Piece> pieces;
  std::string word;
  const auto flush = [&] {
    const auto first = word.find_first_not_of('\'');
    if (first != std::string::npos) {
      const auto last = word.find_last_not_of('\'');
      pieces.push_back({word.substr(first, last - first + 1), false});
    }
    word.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_ascii_letter(c)) {
      word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (c == '\'') {
      word += '\'';
    } else if (text.compare(i, 3, "\xE2\x80\x99") == 0) {  // U+2019 RIGHT SINGLE QUOTATION MARK
      word += '\'';
      i += 2;
    } else {
      flush();
      if (is_clause_mark(c) && (pieces.empty() || !pieces.back().clause_break)) pieces.push_back({"", true});
    }
  }
  flush();
  return pieces;
}

Lexicon Lexicon::from_json(const json& j, const std::string& source) {
  return from_json(j, source, 0);
}

Lexicon Lexicon::from_json(const json& j, const std::string& source, int depth) {
  if (!j.is_object()) throw_file_error(source, "expected a JSON object {\"description\", \"words\", \"negation\"}");
  check_keys(j, {"description", "extends", "words", "negation"}, source, "");
  Lexicon lex;
  if (j.contains("extends")) {
    if (!j["extends"].is_string() || j["extends"].get<std::string>().empty()) {
      throw_file_error(source, "extends: expected the path of another lexicon file (relative to this one)");
    }
    if (depth >= kMaxExtends) {
      throw_file_error(source,
                       "extends: more than " + std::to_string(kMaxExtends) + " lexicons extend each other (a cycle?)");
    }
    const std::filesystem::path base = std::filesystem::path(source).parent_path() / j["extends"].get<std::string>();
    lex = load(base, depth + 1);
  }
  if (j.contains("description")) {
    if (!j["description"].is_string()) throw_file_error(source, "description: expected a string");
    lex.description_ = j["description"].get<std::string>();
  }
  if (!j.contains("words") || !j["words"].is_object() || j["words"].empty()) {
    throw_file_error(source, "words: expected a non-empty object {\"word\": weight, ...}");
  }
  for (auto it = j["words"].begin(); it != j["words"].end(); ++it) {
    const std::string where = "words.\"" + it.key() + "\": ";
    if (!is_valid_word(it.key())) {
      throw_file_error(source, where + "a word is lower-case ASCII letters with apostrophes only inside");
    }
    if (!it.value().is_number() || !std::isfinite(it.value().get<double>())) {
      throw_file_error(source, where + "expected a finite number, got " + it.value().dump());
    }
    lex.weights_[it.key()] = it.value().get<double>();
  }
  if (j.contains("negation")) {
    const json& n = j["negation"];
    if (!n.is_object()) throw_file_error(source, "negation: expected an object {\"words\", \"suffix\", \"window\"}");
    check_keys(n, {"words", "suffix", "window"}, source, "negation: ");
    lex.negators_.clear();  // replaces an extended lexicon's negation
    lex.negation_suffix_.clear();
    lex.negation_window_ = 2;
    if (n.contains("words")) {
      if (!n["words"].is_array()) throw_file_error(source, "negation.words: expected a list of words");
      for (const json& w : n["words"]) {
        if (!w.is_string() || !is_valid_word(w.get<std::string>())) {
          throw_file_error(source, "negation.words: " + w.dump() + " is not a lower-case word");
        }
        lex.negators_.insert(w.get<std::string>());
      }
    }
    if (n.contains("suffix")) {
      if (!n["suffix"].is_string()) throw_file_error(source, "negation.suffix: expected a string such as \"n't\"");
      lex.negation_suffix_ = n["suffix"].get<std::string>();
    }
    if (n.contains("window")) {
      if (!n["window"].is_number_integer() || n["window"].get<std::int64_t>() < 0 ||
          n["window"].get<std::int64_t>() > 100) {
        throw_file_error(source, "negation.window: expected an integer in [0, 100], got " + n["window"].dump());
      }
      lex.negation_window_ = n["window"].get<int>();
    }
  }
  return lex;
}

Lexicon Lexicon::load(const std::filesystem::path& json_file) {
  return load(json_file, 0);
}

Lexicon Lexicon::load(const std::filesystem::path& json_file, int depth) {
  const std::string text = read_text_file(json_file);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw_file_error(json_file.string(), std::string("not valid JSON: ") + e.what());
  }
  return from_json(j, json_file.string(), depth);
}

std::optional<double> Lexicon::weight(std::string_view word) const {
  const auto it = weights_.find(std::string(word));
  if (it == weights_.end()) return std::nullopt;
  return it->second;
}

bool Lexicon::is_negator(std::string_view word) const {
  if (negators_.count(std::string(word)) > 0) return true;
  const std::string& s = negation_suffix_;
  return !s.empty() && word.size() > s.size() && word.compare(word.size() - s.size(), s.size(), s) == 0;
}

double Lexicon::score(std::string_view text) const {
  constexpr int kFar = std::numeric_limits<int>::max();
  int since_negator = kFar;  // words from the last negator of this clause to the current word
  double total = 0;
  for (const Piece& piece : split(text)) {
    if (piece.clause_break) {
      since_negator = kFar;
      continue;
    }
    if (since_negator != kFar) ++since_negator;
    if (const auto w = weight(piece.word)) total += since_negator <= negation_window_ ? -*w : *w;
    if (negation_window_ > 0 && is_negator(piece.word)) since_negator = 0;
  }
  return total;
}

}  // namespace rlhf::labelers
