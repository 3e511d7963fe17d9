#include "text_inputs.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include <iostream>
#include <sstream>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::cli {

std::vector<std::string> read_texts(const std::filesystem::path& path, const std::string& field) {
  const std::string content = read_text_file(path);
  const std::string ext = path.extension().string();
  const bool json_lines = ext == ".jsonl" || ext == ".ndjson";
  std::vector<std::string> texts;
  std::istringstream lines(content);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!json_lines) {
      texts.push_back(line);
      continue;
    }
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
      throw_file_error(path.string(), "line " + std::to_string(number) + ": invalid JSON (" + e.what() + ")");
    }
    if (record.is_string()) {
      texts.push_back(record.get<std::string>());
    } else if (record.is_object() && record.contains(field) && record.at(field).is_string()) {
      texts.push_back(record.at(field).get<std::string>());
    } else {
      throw_file_error(path.string(), "line " + std::to_string(number) + ": expected a JSON string or an object with a string field \"" +
                                          field + "\"");
    }
  }
  return texts;
}

void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
  } else {
    write_file_atomic(path, text);
  }
}

void check_output_file(const std::string& path) {
  if (path.empty() || path == "-") return;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  check_writable_directory(parent.empty() ? std::filesystem::path(".") : parent, "output", 1u << 20);
}

std::vector<std::string> gather_texts(const std::vector<std::string>& from_arguments, const std::string& file,
                                      const std::string& field, const std::string& hint) {
  std::vector<std::string> texts = from_arguments;
  if (!file.empty()) {
    auto from_file = read_texts(file, field);
    texts.insert(texts.end(), from_file.begin(), from_file.end());
  }
  if (texts.empty()) throw Error(hint);
  return texts;
}

}  // namespace rlhf::cli
