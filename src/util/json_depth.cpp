#include "rlhf/util/json_depth.h"

#include "rlhf/util/error.h"

namespace rlhf {

namespace {

// The byte offset where nesting first exceeds kMaxJsonDepth, or npos.
std::size_t too_deep_at(std::string_view text) {
  std::size_t depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {  // skip the string, escapes included; an unterminated one runs to the end
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == std::string_view::npos) break;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      i = text.find("*/", i + 2);
      if (i == std::string_view::npos) break;
      ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

bool json_depth_ok(std::string_view text) { return too_deep_at(text) == std::string_view::npos; }

void check_json_depth(std::string_view text, const std::string& source) {
  const std::size_t at = too_deep_at(text);
  if (at == std::string_view::npos) return;
  const std::string_view before = text.substr(0, at);
  std::size_t line = 1;
  for (const char c : before) line += c == '\n';
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column = line_start == std::string_view::npos ? at + 1 : at - line_start;
  throw_file_error(source, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels at line " +
                               std::to_string(line) + ", column " + std::to_string(column));
}

}  // namespace rlhf
