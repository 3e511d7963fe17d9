#include "query_files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "rlhf/util/json_depth.h"
#include "text_input.h"

namespace rlhf::data {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

std::ifstream open_input(const std::string& path) {
  if (is_directory(path)) {
    throw_file_error(path,
                     "is a directory; this format reads one file (formats cnndm and fortune also take a "
                     "directory: set format)");
  }
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
  if (!json_depth_ok(line)) {
    throw_file_error(path, "line " + std::to_string(line_number) + ": JSON nested deeper than " +
                               std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    return json::parse(line);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
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

// `reference_field` set: each object's reference summary too, into `references`.
QueryTexts read_jsonl(const std::string& path, const std::string& field, const std::string& reference_field) {
  QueryTexts out;
  for_each_nonblank_line(path, [&](std::size_t line_number, const std::string& line) {
    json record = parse_line(path, line_number, line);
    const std::string where = "line " + std::to_string(line_number);
    if (!record.is_object()) {
      throw_file_error(path, where + ": expected an object with " + quoted(field) + ", got " + show_json(record));
    }
    out.texts.push_back(text_field(path, where, record, field));
    if (!reference_field.empty()) out.references.push_back(text_field(path, where, record, reference_field));
  });
  return out;
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
QueryTexts read_json_array(const std::string& path, const std::string& field, const std::string& reference_field) {
  std::ifstream in = open_input(path);
  QueryTexts out;
  std::vector<std::string>& texts = out.texts;
  std::size_t index = 0;
  const json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 0 && event == json::parse_event_t::object_start) {
      throw_file_error(path, "expected a JSON array of texts or objects, got an object");
    }
    if (static_cast<std::size_t>(depth) > kMaxJsonDepth) {
      throw_file_error(path, "element " + std::to_string(index) + ": JSON nested deeper than " +
                                 std::to_string(kMaxJsonDepth) + " levels");
    }
    if (depth != 1 || (event != json::parse_event_t::value && event != json::parse_event_t::object_end &&
                       event != json::parse_event_t::array_end)) {
      return true;
    }
    const std::string where = "element " + std::to_string(index++);
    if (parsed.is_string() && reference_field.empty()) {
      texts.push_back(std::move(parsed.get_ref<std::string&>()));
    } else if (parsed.is_object()) {
      texts.push_back(text_field(path, where, parsed, field));
      if (!reference_field.empty()) out.references.push_back(text_field(path, where, parsed, reference_field));
    } else {
      const std::string wanted = reference_field.empty()
                                     ? "a string or an object with " + quoted(field)
                                     : "an object with " + quoted(field) + " and " + quoted(reference_field);
      throw_file_error(path, where + ": expected " + wanted + ", got " + show_json(parsed));
    }
    return false;
  };
  json top;
  try {
    top = json::parse(in, on_event);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw_file_error(path, "not valid JSON: " + json_error_text(e, false));
  }
  if (!top.is_array()) throw_file_error(path, "expected a JSON array of texts or objects, got " + show_json(top));
  return out;
}

// The entries of one strfile source file: the lines between lines that hold only '%' (a '\r' before
// the '\n' ignored), joined by '\n' without a final one.
void append_fortunes(const std::string& path, std::vector<std::string>& texts) {
  std::string entry;
  bool has_lines = false;
  const auto flush = [&] {
    if (entry.find_first_not_of(" \t\r\n") != std::string::npos) texts.push_back(std::move(entry));
    entry.clear();
    has_lines = false;
  };
  for_each_line(read_text_file(path), [&](std::size_t, std::string_view line) {
    if (line == "%") return flush();
    if (has_lines) entry += '\n';
    entry += line;
    has_lines = true;
  });
  flush();
}

}  // namespace

std::vector<std::string> read_fortune_texts(const std::string& path) {
  std::vector<std::string> texts;
  if (!is_directory(path)) {
    append_fortunes(path, texts);
    return texts;
  }
  std::vector<std::string> files;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    std::error_code entry_error;  // an unreadable entry is just not a fortune file
    if (name.find('.') == std::string::npos && entry.is_regular_file(entry_error))
      files.push_back(entry.path().string());
  }
  if (ec) throw_file_error(path, "cannot list the directory: " + ec.message());
  if (files.empty()) {
    throw_file_error(path,
                     "holds no fortune files (format fortune reads the regular files without a '.' in their "
                     "name, such as /usr/share/games/fortunes/computers)");
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) append_fortunes(file, texts);
  return texts;
}

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

void require_no_reference_field(const QueryOptions& options, const std::string& format) {
  if (!options.reference_field.empty() && format != "jsonl" && format != "json") {
    throw_file_error(options.path, "reference_field is set, but the format " + quoted(format) +
                                       " has no fields (only jsonl and json objects do)");
  }
}

QueryTexts read_query_texts(const QueryOptions& options) {
  if (options.path.empty()) throw Error("query dataset: path is not set");
  std::error_code ec;
  if (!fs::exists(options.path, ec)) {
    throw_file_error(options.path,
                     "not found (the query dataset's path; scripts/download_datasets.sh downloads the "
                     "paper's tldr and cnndm files)");
  }
  if (options.format == "cnndm") return read_cnndm_texts(options);
  if (options.format == "fortune") {
    require_no_reference_field(options, "fortune");
    return {read_fortune_texts(options.path), 0, {}};
  }
  if (options.format == "auto" && is_directory(options.path)) {
    throw_file_error(options.path,
                     "is a directory; set format to cnndm (a directory of .story files) or fortune "
                     "(a directory of fortune files)");
  }
  const std::string format = options.format == "auto" ? detect_query_format(options.path) : options.format;
  require_no_reference_field(options, format);
  if (format == "text") return {read_text_lines(options.path), 0, {}};
  if (format == "jsonl") return read_jsonl(options.path, options.field, options.reference_field);
  if (format == "books") return {read_books(options.path), 0, {}};
  if (format == "json") return read_json_array(options.path, options.field, options.reference_field);
  throw Error("query dataset: format must be one of auto, text, jsonl, books, json, cnndm, fortune, got " +
              quoted(format));
}

}  // namespace rlhf::data
