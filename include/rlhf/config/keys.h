// Key paths, "did you mean" suggestions and the error messages about keys. Code in src/config/keys.cpp.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf {
class Error;
}

namespace rlhf::config::detail {

// "sampling" + "top_k" -> "sampling.top_k"; "" + "model" -> "model".
std::string join_path(const std::string& prefix, std::string_view name);

// The prefix of an error message: "SOURCE: PATH", or "PATH" when there is no source.
std::string location(const std::string& source, const std::string& path);

// Optimal string alignment distance (insertions, deletions, substitutions, adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` (ignoring case, '-' read as '_') when it is close enough to be a
// likely typo; the first such candidate on ties.
std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates);

// Throws "SOURCE: unknown key 'PREFIX.KEY.REST' (did you mean '...'?)", suggesting a sibling with a
// close name, else a key elsewhere in the configuration with the same (or a close) name, else
// listing the siblings. `rest` is the part of an override's key below the unknown one (".device").
[[noreturn]] void throw_unknown_key(const std::string& source, const std::string& prefix, const std::string& key,
                                    const std::string& rest, const std::vector<std::string>& siblings,
                                    const std::vector<std::string>& all_paths);

// "WHERE: expected an object (a section), got 5".
[[noreturn]] void throw_not_a_section(const std::string& where, const nlohmann::json& j);

// Parses JSON text (comments allowed); throws "SOURCE: invalid JSON at line L, column C: ...".
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

// Throws "SOURCE: expected a JSON object at the top level, got ..." unless `j` is an object.
void expect_top_level_object(const nlohmann::json& j, const std::string& source);

// "section.key=value" split into its key's parts and the value text.
struct Assignment {
  std::vector<std::string> parts;  // {"sampling", "top_k"}
  std::string key;                 // "sampling.top_k"
  std::string value;               // everything after the first '='
};
Assignment parse_assignment(const std::string& assignment, const std::string& source);

// An error from a check() hook, prefixed with the section's path when it has one.
[[noreturn]] void rethrow_check_error(const Error& error, const std::string& path);

// Throws std::logic_error for a key name that is empty, contains '.', '=' or '[', or repeats one.
void check_key_name(std::string_view name, const std::string& prefix, const std::vector<std::string>& earlier);

}  // namespace rlhf::config::detail
