// Writing questions and labels: the OpenAI label schema and a readable text rendering.
#include <nlohmann/json.hpp>

#include "rlhf/labelers/questions.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {

void write_questions(const std::filesystem::path& path, const std::vector<data::Comparison>& items, bool with_best) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const data::Comparison& c = items[i];
    nlohmann::ordered_json record;
    record["query"] = c.query;
    for (std::size_t n = 0; n < c.samples.size(); ++n) record["sample" + std::to_string(n)] = c.samples[n];
    if (with_best) {
      if (c.best < 0 || c.best >= static_cast<int>(c.samples.size())) {
        throw Error(path.string() + ": item " + std::to_string(i) + " has no valid best (" + std::to_string(c.best) +
                    " for " + std::to_string(c.samples.size()) + " samples); label it first");
      }
      record["best"] = c.best;
      if (!c.labeler_scores.empty()) record["info"] = data::labeler_info_json(c);
    }
    out += record.dump();
    out += i + 1 < items.size() ? ",\n" : "\n";
  }
  out += "]\n";
  write_file_atomic(path, out);
}

void write_questions_text(const std::filesystem::path& path, const std::vector<data::Comparison>& items,
                          const tokenizer::Tokenizer& tokenizer, int pad_id) {
  const auto text_of = [&](const std::vector<int>& ids) {
    std::vector<int> real;
    for (int id : ids) {
      if (id != pad_id) real.push_back(id);
    }
    return tokenizer.decode(real);
  };
  // Each text as a JSON string: on one line, leading spaces and newlines visible, bytes that are not
  // valid UTF-8 (a token cut mid-character) shown as U+FFFD.
  const auto quoted = [](const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const data::Comparison& c = items[i];
    out += "=== question " + std::to_string(i) + " ===\n";
    try {
      out += "query: " + quoted(text_of(c.query)) + "\n";
      for (std::size_t n = 0; n < c.samples.size(); ++n) {
        const bool chosen = c.best == static_cast<int>(n);
        out += (chosen ? "* " : "  ") + std::to_string(n) + ": " + quoted(text_of(c.samples[n])) + "\n";
      }
    } catch (const Error& e) {
      throw_file_error(path.string(), "item " + std::to_string(i) + ": " + e.what());
    }
    out += "\n";
  }
  write_file_atomic(path, out);
}

std::filesystem::path text_rendering_path(const std::filesystem::path& questions_file) {
  std::filesystem::path text = questions_file;
  text.replace_extension(".txt");
  if (text == questions_file) text += ".txt";
  return text;
}

}  // namespace rlhf::labelers
