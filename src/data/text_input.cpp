#include "text_input.h"

namespace rlhf::data {

namespace {
constexpr std::size_t kShowLimit = 60;
}  // namespace

std::string show_json(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kShowLimit) text = text.substr(0, kShowLimit) + "...";
  return text;
}

std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_error_text(const nlohmann::json::exception& error, bool single_line) {
  std::string text = error.what();
  const std::size_t bracket = text.find("] ");
  if (text.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos) text = text.substr(bracket + 2);
  const std::string at_line_one = "parse error at line 1, ";
  if (single_line && text.rfind(at_line_one, 0) == 0) text = text.substr(at_line_one.size());
  return text;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

char first_content_char(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const std::size_t pos = text.find_first_not_of(" \t\r\n");
  return pos == std::string_view::npos ? '\0' : text[pos];
}

}  // namespace rlhf::data
