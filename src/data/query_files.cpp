#include "query_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rlhf/util/error.h"
#include "text_input.h"

namespace rlhf::data {

namespace {

using json = nlohmann::json;

std::ifstream open_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path, std::string("cannot open: ") + std::strerror(errno));
  return in;
}

// Calls f(line_number, line) for every line that is not blank, '\r' removed.
template <class F>
void for_each_nonblank_line(const std::string& path, F&& f) {
  std::ifstream in = open_input(path);
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_blank(line)) continue;
    f(line_number, line);
  }
  if (in.bad()) throw_file_error(path, "read error after line " + std::to_string(line_number));
}

json parse_line(const std::string& path, std::size_t line_number, const std::string& line) {
  try {
    return json::parse(line);
  } catch (const json::parse_error& e) {
    throw_file_error(path, "line " + std::to_string(line_number) + ": not valid JSON: " + json_error_text(e, true));
  }
}

// The text under `field` of an object; `where` is "line 3" or "element 3".
std::string text_field(const std::string& path, const std::string& where, json& object, const std::string& field) {
  const auto it = object.find(field);
  if (it == object.end()) {
    std::string keys;
    for (auto key = object.begin(); key != object.end() && keys.size() < 60; ++key) {
      keys += (keys.empty() ? "" : ", ") + key.key();
    }
    throw_file_error(path, where + ": has no " + quoted(field) + " field (its keys: " + (keys.empty() ? "none" : keys) +
                               "; set field to the key of the text)");
  }
  if (!it->is_string()) throw_file_error(path, where + ": " + field + ": expected a string, got " + show_json(*it));
  return std::move(it->get_ref<std::string&>());
}

std::vector<std::string> read_text_lines(const std::string& path) {
  std::vector<std::string> texts;
  for_each_nonblank_line(path, [&](std::size_t, std::string& line) { texts.push_back(std::move(line)); });
  return texts;
}

std::vector<std::string> read_jsonl(const std::string& path, const std::string& field) {
  std::vector<std::string> texts;
  for_each_nonblank_line(path, [&](std::size_t line_number, const std::string& line) {
    json record = parse_line(path, line_number, line);
    const std::string where = "line " + std::to_string(line_number);
    if (!record.is_object()) {
      throw_file_error(path, where + ": expected an object with " + quoted(field) + ", got " + show_json(record));
    }
    texts.push_back(text_field(path, where, record, field));
  });
  return texts;
}

std::vector<std::string> read_books(const std::string& path) {
  std::vector<std::string> texts;
  for_each_nonblank_line(path, [&](std::size_t line_number, const std::string& line) {
    json value = parse_line(path, line_number, line);
    if (!value.is_string()) {
      throw_file_error(path, "line " + std::to_string(line_number) +
                                 ": expected a JSON string (books format: one string per line), got " +
                                 show_json(value));
    }
    texts.push_back(std::move(value.get_ref<std::string&>()));
  });
  return texts;
}

// A JSON array, streamed: each element is taken as soon as it is complete and then dropped, so a
// multi-gigabyte file (tldr train-subset.json) never becomes a DOM.
std::vector<std::string> read_json_array(const std::string& path, const std::string& field) {
  std::ifstream in = open_input(path);
  std::vector<std::string> texts;
  std::size_t index = 0;
  const json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 0 && event == json::parse_event_t::object_start) {
      throw_file_error(path, "expected a JSON array of texts or objects, got an object");
    }
    if (depth != 1 || (event != json::parse_event_t::value && event != json::parse_event_t::object_end &&
                       event != json::parse_event_t::array_end)) {
      return true;
    }
    const std::string where = "element " + std::to_string(index++);
    if (parsed.is_string()) {
      texts.push_back(std::move(parsed.get_ref<std::string&>()));
    } else if (parsed.is_object()) {
      texts.push_back(text_field(path, where, parsed, field));
    } else {
      throw_file_error(path,
                       where + ": expected a string or an object with " + quoted(field) + ", got " + show_json(parsed));
    }
    return false;
  };
  json top;
  try {
    top = json::parse(in, on_event);
  } catch (const json::parse_error& e) {
    throw_file_error(path, "not valid JSON: " + json_error_text(e, false));
  }
  if (!top.is_array()) throw_file_error(path, "expected a JSON array of texts or objects, got " + show_json(top));
  return texts;
}

}  // namespace

std::string detect_query_format(const std::string& path) {
  std::ifstream in = open_input(path);
  std::string line;
  while (std::getline(in, line)) {
    if (is_blank(line)) continue;
    const char first = first_content_char(line);
    if (first == '[') return "json";
    if (first == '{') return "jsonl";  // a bad first object is then reported with its line
    return json::parse(line, nullptr, /*allow_exceptions=*/false).is_string() ? "books" : "text";
  }
  return "text";  // empty: any format reports "no texts"
}

std::vector<std::string> read_query_texts(const QueryOptions& options) {
  if (options.path.empty()) throw Error("query dataset: path is not set");
  const std::string format = options.format == "auto" ? detect_query_format(options.path) : options.format;
  if (format == "text") return read_text_lines(options.path);
  if (format == "jsonl") return read_jsonl(options.path, options.field);
  if (format == "books") return read_books(options.path);
  if (format == "json") return read_json_array(options.path, options.field);
  throw Error("query dataset: format must be one of auto, text, jsonl, books, json, got " + quoted(format));
}

}  // namespace rlhf::data
