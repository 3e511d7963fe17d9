#include "rlhf/sft/data.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rlhf/data/shuffle.h"
#include "rlhf/data/text_files.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<SftExample> pack_documents(const std::vector<std::vector<int>>& documents, int eos_id,
                                       int sequence_length) {
  if (sequence_length < 1) throw Error("pack_documents: sequence_length must be >= 1");
  std::vector<int> stream;
  for (const auto& document : documents) {
    stream.insert(stream.end(), document.begin(), document.end());
    stream.push_back(eos_id);
  }
  std::vector<SftExample> blocks;
  const auto L = static_cast<std::size_t>(sequence_length);
  for (std::size_t start = 0; start + 1 < stream.size(); start += L) {
    const std::size_t end = std::min(stream.size(), start + L + 1);
    blocks.push_back({std::vector<int>(stream.begin() + start, stream.begin() + end), 1});
  }
  return blocks;
}

SftExample make_pair_example(const std::vector<int>& query, const std::vector<int>& response, int eos_id,
                             int sequence_length) {
  SftExample example;
  example.tokens = query;
  example.tokens.insert(example.tokens.end(), response.begin(), response.end());
  if (eos_id >= 0) example.tokens.push_back(eos_id);
  example.first_target = std::max<int>(1, static_cast<int>(query.size()));
  const auto n = static_cast<int>(example.tokens.size());
  if (n > sequence_length + 1 || example.first_target >= n) example.tokens.clear();
  return example;
}

SftBatch make_batch(const std::vector<const SftExample*>& examples) {
  if (examples.empty()) throw Error("make_batch: no examples");
  std::size_t longest = 2;
  for (const auto* e : examples) longest = std::max(longest, e->tokens.size());
  const auto B = static_cast<std::int64_t>(examples.size()), T = static_cast<std::int64_t>(longest) - 1;
  SftBatch batch;
  batch.ids = at::zeros({B, T}, at::kLong);  // pads hold 0; the mask keeps the model from seeing them
  batch.mask = at::zeros({B, T}, at::kBool);
  batch.targets = at::full({B, T}, -100, at::kLong);
  auto ids = batch.ids.accessor<std::int64_t, 2>();
  auto mask = batch.mask.accessor<bool, 2>();
  auto targets = batch.targets.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& tokens = examples[b]->tokens;
    const auto n = static_cast<std::int64_t>(tokens.size());
    for (std::int64_t t = 0; t + 1 < n; ++t) {
      ids[b][t] = tokens[t];
      mask[b][t] = true;
      if (t + 1 >= examples[b]->first_target) {
        targets[b][t] = tokens[t + 1];
        ++batch.target_count;
      }
    }
    batch.token_count += std::max<std::int64_t>(0, n - 1);
  }
  batch.positions = model::positions_from_mask(batch.mask);
  return batch;
}

namespace {

// The first character of the first non-blank line: '[' (json) or '{' (jsonl).
char first_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path, "cannot open");
  std::string line;
  while (std::getline(in, line)) {
    const auto pos = line.find_first_not_of(" \t\r\xEF\xBB\xBF");
    if (pos != std::string::npos) return line[pos];
  }
  return '\0';
}

std::string text_of(const json& object, const std::string& key, const std::string& path, const std::string& where) {
  if (!object.is_object()) throw_file_error(path, where + ": expected a JSON object, got " + object.dump().substr(0, 60));
  const auto it = object.find(key);
  if (it == object.end()) {
    throw_file_error(path, where + ": has no \"" + key + "\" field (set data.query_key / data.response_key)");
  }
  if (!it->is_string()) throw_file_error(path, where + ": " + key + ": expected a string, got " + it->dump().substr(0, 60));
  return it->get<std::string>();
}

TextPair pair_of(const json& object, const SftDataOptions& options, const std::string& path, const std::string& where) {
  return {text_of(object, options.query_key, path, where), text_of(object, options.response_key, path, where)};
}

std::vector<TextPair> read_pairs_jsonl(const SftDataOptions& options, const std::string& path) {
  std::vector<TextPair> pairs;
  std::size_t line_number = 0;
  const std::string text = read_text_file(path);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "line " + std::to_string(line_number);
    json record;
    try {
      record = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
      throw_file_error(path, where + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    pairs.push_back(pair_of(record, options, path, where));
  }
  return pairs;
}

std::vector<TextPair> read_pairs_json(const SftDataOptions& options, const std::string& path) {
  json top;
  try {
    top = json::parse(read_text_file(path));
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw_file_error(path, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!top.is_array()) throw_file_error(path, "expected a JSON array of objects with query and response");
  std::vector<TextPair> pairs;
  for (std::size_t i = 0; i < top.size(); ++i) pairs.push_back(pair_of(top[i], options, path, "element " + std::to_string(i)));
  return pairs;
}

// Indices [0, n) split into (kept, held out): round(fraction * n) held out (at least 1 and fewer than n
// when fraction > 0 and n >= 2), picked by a seeded shuffle; both in file order.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_indices(std::size_t n, double fraction,
                                                                            std::uint64_t seed) {
  std::size_t held = 0;
  if (fraction > 0 && n >= 2) {
    held = std::clamp<std::size_t>(static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n))), 1, n - 1);
  }
  std::vector<std::size_t> order = data::shuffled_indices(n, seed);
  std::vector<std::size_t> validation(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  std::vector<std::size_t> train(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());
  return {train, validation};
}

template <class T>
std::vector<T> pick(const std::vector<T>& items, const std::vector<std::size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (const std::size_t i : indices) out.push_back(items[i]);
  return out;
}

int end_of_text_id(const tokenizer::Tokenizer& tokenizer, const std::string& why) {
  const int eos = tokenizer.eos_id();
  if (eos < 0) throw Error("tokenizer: has no end-of-text token, which " + why + " needs");
  return eos;
}

struct Examples {
  std::vector<SftExample> items;
  std::size_t too_long = 0, empty = 0;
};

Examples lm_examples(const std::vector<std::string>& documents, const tokenizer::Tokenizer& tokenizer,
                     int sequence_length) {
  std::vector<std::vector<int>> encoded;
  encoded.reserve(documents.size());
  for (const auto& document : documents) encoded.push_back(tokenizer.encode(document));
  return {pack_documents(encoded, end_of_text_id(tokenizer, "data.mode lm"), sequence_length), 0, 0};
}

Examples pair_examples(const std::vector<TextPair>& pairs, const tokenizer::Tokenizer& tokenizer,
                       const SftDataOptions& options, int sequence_length) {
  const int eos = options.end_of_text ? end_of_text_id(tokenizer, "data.end_of_text") : -1;
  Examples out;
  for (const auto& pair : pairs) {
    const std::vector<int> query = tokenizer.encode(pair.query), response = tokenizer.encode(pair.response);
    SftExample e = make_pair_example(query, response, eos, sequence_length);
    if (!e.tokens.empty()) {
      out.items.push_back(std::move(e));
    } else if (query.size() + response.size() + (eos >= 0 ? 1 : 0) > static_cast<std::size_t>(sequence_length) + 1) {
      ++out.too_long;
    } else {
      ++out.empty;
    }
  }
  return out;
}

std::int64_t count_targets(const std::vector<SftExample>& examples) {
  std::int64_t n = 0;
  for (const auto& e : examples) n += static_cast<std::int64_t>(e.tokens.size()) - e.first_target;
  return n;
}

// lm format auto: a directory, or a file with a line holding only '%' in its first 64 KiB, is fortune
// (strfile sources); anything else is left to the data module (json, jsonl, books or text).
std::string resolve_lm_format(const std::string& format, const std::string& path) {
  if (format != "auto") return format;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return "fortune";
  std::ifstream in(path, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const bool fortune = head.rfind("%\n", 0) == 0 || head.find("\n%\n") != std::string::npos ||
                       head.find("\n%\r\n") != std::string::npos;
  return fortune ? "fortune" : "auto";
}

}  // namespace

std::vector<std::string> read_documents(const SftDataOptions& options, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_file_error(path, "not found");
  if (options.format == "raw") return {read_text_file(path)};
  data::QueryOptions query_options;
  query_options.path = path;
  query_options.format = resolve_lm_format(options.format, path);
  query_options.field = options.field;
  return data::read_texts(query_options);
}

std::vector<TextPair> read_pairs(const SftDataOptions& options, const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw_file_error(path, "not found (or not a file)");
  std::string format = options.format;
  if (format == "auto") {
    const char first = first_content(path);
    format = first == '[' ? "json" : first == '{' ? "jsonl" : "";
    if (format.empty()) {
      throw_file_error(path, "data.mode pairs reads JSON Lines or a JSON array of objects with \"" +
                                 options.query_key + "\" and \"" + options.response_key + "\"");
    }
  }
  if (format == "jsonl") return read_pairs_jsonl(options, path);
  if (format == "json") return read_pairs_json(options, path);
  throw Error("data.format: mode pairs reads jsonl or json, got \"" + format + "\"");
}

SftData load_sft_data(const SftDataOptions& options, const tokenizer::Tokenizer& tokenizer, int sequence_length,
                      std::uint64_t seed) {
  const bool pairs = options.mode == "pairs";
  const double fraction = options.validation_path.empty() ? options.validation_fraction : 0.0;
  const auto examples_of = [&](const std::string& path, bool split) -> std::pair<Examples, Examples> {
    if (pairs) {
      const auto items = read_pairs(options, path);
      if (items.empty()) throw_file_error(path, "holds no (query, response) pairs");
      const auto [keep, held] = split_indices(items.size(), split ? fraction : 0.0, seed);
      return {pair_examples(pick(items, keep), tokenizer, options, sequence_length),
              pair_examples(pick(items, held), tokenizer, options, sequence_length)};
    }
    const auto items = read_documents(options, path);
    if (items.empty()) throw_file_error(path, "holds no documents");
    const auto [keep, held] = split_indices(items.size(), split ? fraction : 0.0, seed);
    return {lm_examples(pick(items, keep), tokenizer, sequence_length),
            lm_examples(pick(items, held), tokenizer, sequence_length)};
  };
  auto [train, held] = examples_of(options.path, true);
  SftData data;
  data.skipped_too_long = train.too_long + held.too_long;
  data.skipped_empty = train.empty + held.empty;
  data.train = std::move(train.items);
  data.validation = std::move(held.items);
  if (!options.validation_path.empty()) {
    auto validation = examples_of(options.validation_path, false).first;
    data.validation = std::move(validation.items);
    data.skipped_too_long += validation.too_long;
    data.skipped_empty += validation.empty;
  }
  if (data.skipped_too_long > 0) {
    spdlog::warn("{}: skipped {} pairs longer than sequence_length + 1 = {} tokens", options.path,
                 data.skipped_too_long, sequence_length + 1);
  }
  if (data.skipped_empty > 0) spdlog::warn("{}: skipped {} pairs with nothing to learn", options.path, data.skipped_empty);
  if (data.train.empty()) {
    throw_file_error(options.path, pairs ? "no usable pair for training (all too long or empty)"
                                         : "no text to train on (every document is empty)");
  }
  data.train_tokens = count_targets(data.train);
  spdlog::info("{}: {} training {} ({} target tokens), {} held out", options.path, data.train.size(),
               pairs ? "pairs" : "blocks of " + std::to_string(sequence_length), data.train_tokens,
               data.validation.size());
  return data;
}

std::vector<std::size_t> batch_indices(std::size_t n, std::int64_t step, int batch_size, std::uint64_t seed) {
  if (n == 0 || batch_size < 1 || step < 0) throw Error("batch_indices: empty data, batch_size < 1 or step < 0");
  std::vector<std::size_t> out;
  const auto B = static_cast<std::size_t>(batch_size);
  std::size_t position = static_cast<std::size_t>(step) * B;
  std::size_t epoch = position / n;
  std::vector<std::size_t> order = data::shuffled_indices(n, seed + epoch);
  for (std::size_t k = 0; k < B; ++k, ++position) {
    if (position / n != epoch) {
      epoch = position / n;
      order = data::shuffled_indices(n, seed + epoch);
    }
    out.push_back(order[position % n]);
  }
  return out;
}

}  // namespace rlhf::sft
