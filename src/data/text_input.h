// Small helpers shared by the label and query readers (private to src/data).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace rlhf::data {

// A JSON value for an error message, cut to about 60 characters: "abc" stays "\"abc\"", a long list
// becomes "[1,2,3,...".
std::string show_json(const nlohmann::json& value);

// A string for an error message, JSON-quoted ("\n" shown as \n).
std::string quoted(const std::string& text);

// nlohmann's error without the "[json.exception.parse_error.101] " prefix. For a single line,
// "parse error at line 1, column 7: x" becomes "column 7: x". Parsing throws parse_error for bad syntax
// and out_of_range for a number beyond double's range ("number overflow parsing '1e999'"): catch
// json::exception, the base of both.
std::string json_error_text(const nlohmann::json::exception& error, bool single_line);

// Calls f(line_number (1-based), line) for every line of `text`, without the '\n' or a trailing '\r'.
// A final line without '\n' counts; an empty text has no lines.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(++line_number, line);
    start = end + 1;
  }
}

// True for a line of spaces, tabs and carriage returns only.
bool is_blank(std::string_view line);

// The first character that is not whitespace (after a UTF-8 byte order mark), or '\0' if none.
char first_content_char(std::string_view text);

}  // namespace rlhf::data
