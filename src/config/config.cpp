// Configuration files in and out: JSON parsing with located errors, saving, and the Markdown table.
#include "rlhf/config/config.h"

#include <algorithm>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "rlhf/util/json_depth.h"

namespace rlhf::config::detail {
namespace {

// Markdown table cell: no line breaks, '|' escaped.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string code(const std::string& text) {
  return text.empty() ? "" : "`" + cell(text) + "`";
}

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  check_json_depth(text, source);
  try {
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte: 1-based offset of the character where parsing failed.
    const std::size_t end = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const std::size_t line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n');
    const std::size_t line_start = text.rfind('\n', end == 0 ? 0 : end - 1);
    const std::size_t column = line_start == std::string::npos || end == 0 ? end + 1 : end - line_start;
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line L, column C: DETAIL".
    std::string detail = e.what();
    const std::size_t colon = detail.find(": ", detail.find("parse error"));
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
    std::string hint;
    if (detail.find("unexpected '}'") != std::string::npos || detail.find("unexpected ']'") != std::string::npos) {
      hint = " (a trailing comma?)";
    }
    throw Error(source + ": invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
                ": " + detail + hint);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond double's range (1e999): nlohmann gives no position, but its text names the number.
    std::string detail = e.what();
    const std::size_t bracket = detail.find("] ");
    if (bracket != std::string::npos) detail = detail.substr(bracket + 2);
    throw Error(source + ": invalid JSON: " + detail + " (numbers must fit in a double)");
  }
}

void write_config_text(const std::filesystem::path& path, const nlohmann::ordered_json& j) {
  write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

std::string render_markdown(const std::vector<DocRow>& rows, const std::string& title) {
  std::string out = "# " + title + "\n\n";
  out += "| Key | Type | Default | Allowed | Description |\n";
  out += "|-----|------|---------|---------|-------------|\n";
  for (const DocRow& row : rows) {
    const std::string key = row.type == "section" ? "**" + code(row.key) + "**" : code(row.key);
    out += "| " + key + " | " + cell(row.type) + " | " + code(row.value) + " | " + cell(row.constraint) + " | " +
           cell(row.doc) + " |\n";
  }
  return out;
}

}  // namespace rlhf::config::detail
