#include "rlhf/data/queries.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

#include "parallel_for.h"
#include "query_files.h"
#include "rlhf/data/cnndm.h"
#include "rlhf/data/shuffle.h"
#include "rlhf/util/error.h"
#include "text_input.h"

namespace rlhf::data {

namespace {

// The id of a start/end text, which must be exactly one token; nullopt for "".
std::optional<int> single_token(const std::string& text, const char* option, const tokenizer::Tokenizer& tokenizer) {
  if (text.empty()) return std::nullopt;
  const std::vector<int> ids = tokenizer.encode(text);
  if (ids.size() != 1) {
    std::string list;
    for (int id : ids) list += (list.empty() ? "" : ", ") + std::to_string(id);
    throw Error(std::string("query dataset: ") + option + " " + quoted(text) + " encodes to " +
                std::to_string(ids.size()) + " tokens [" + list + "]; it must be exactly one token (\"\" = none)");
  }
  return ids.front();
}

// Why a file gave no query at all, and what to change.
std::string no_query_reason(std::size_t num_texts, const QuerySkips& skips, const QueryOptions& options) {
  const std::string start = "the start token " + quoted(options.start_text);
  const std::string end = "the end token " + quoted(options.end_text) + " within the first " +
                          std::to_string(options.query_length) + " tokens" +
                          (options.start_text.empty() ? "" : " after the start token");
  const std::string all = " (all " + std::to_string(num_texts) + " texts skipped); ";
  const std::string no_start_fix = "set start_text to \"\" to start each query at the beginning of its text";
  const std::string no_end_fix = "raise query_length or set end_text to \"\" to keep the truncated text";
  if (num_texts == 0) return "contains no texts (check path and format)";
  if (skips.no_start_token == num_texts) return "no text contains " + start + all + no_start_fix;
  if (skips.no_end_token == num_texts) return "no text contains " + end + all + no_end_fix;
  if (skips.empty == num_texts)
    return "every text is empty (" + std::to_string(num_texts) + " texts; check format and field)";
  return "all " + std::to_string(num_texts) + " texts were skipped: " + std::to_string(skips.no_start_token) +
         " lack " + start + ", " + std::to_string(skips.no_end_token) + " lack " + end + ", " +
         std::to_string(skips.empty) + " are empty; " + no_start_fix + ", or " + no_end_fix;
}

}  // namespace

QueryCut cut_query(std::vector<int>& tokens, int query_length, std::optional<int> start_token,
                   std::optional<int> end_token) {
  if (start_token) {
    const auto first = std::find(tokens.begin(), tokens.end(), *start_token);
    if (first == tokens.end()) return QueryCut::no_start_token;
    if (first + 1 != tokens.end()) tokens.erase(tokens.begin(), first + 1);  // last token: keep the text unchanged
  }
  if (tokens.size() > static_cast<std::size_t>(query_length)) tokens.resize(static_cast<std::size_t>(query_length));
  if (end_token) {
    const auto last = std::find(tokens.rbegin(), tokens.rend(), *end_token);
    if (last == tokens.rend()) return QueryCut::no_end_token;
    tokens.erase(last.base(), tokens.end());  // keep the end token itself
  }
  return tokens.empty() ? QueryCut::empty : QueryCut::kept;
}

std::vector<int> pad_query(const std::vector<int>& tokens, int length, int pad_id, bool left) {
  if (tokens.size() > static_cast<std::size_t>(length)) {
    throw Error("pad_query: " + std::to_string(tokens.size()) + " tokens do not fit in " + std::to_string(length));
  }
  std::vector<int> padded(static_cast<std::size_t>(length), pad_id);
  std::copy(tokens.begin(), tokens.end(),
            left ? padded.end() - static_cast<std::ptrdiff_t>(tokens.size()) : padded.begin());
  return padded;
}

std::string clean_query_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '\n') {
      out += text[i++];
      continue;
    }
    std::size_t run = 0;
    while (i < text.size() && text[i] == '\n') ++run, ++i;
    out.append(run >= 3 ? 2 : run, '\n');
  }
  return std::string(python_strip(out));
}

QueryDataset QueryDataset::load(const QueryOptions& options, const tokenizer::Tokenizer& tokenizer) {
  QueryTexts read = read_query_texts(options);
  QueryDataset dataset =
      from_texts(std::move(read.texts), options, tokenizer, options.path, std::move(read.references));
  dataset.skips_.missing_story = read.missing_stories;
  return dataset;
}

QueryDataset QueryDataset::from_texts(std::vector<std::string> texts, const QueryOptions& options,
                                      const tokenizer::Tokenizer& tokenizer, const std::string& source,
                                      std::vector<std::string> references) {
  if (!references.empty() && references.size() != texts.size()) {
    throw Error(source + ": " + std::to_string(references.size()) + " references for " + std::to_string(texts.size()) +
                " texts");
  }
  if (options.query_length < 1)
    throw Error("query dataset: query_length must be >= 1, got " + std::to_string(options.query_length));
  if (options.padding != "right" && options.padding != "left") {
    throw Error("query dataset: padding must be right or left, got " + quoted(options.padding));
  }
  const std::optional<int> start_token = single_token(options.start_text, "start_text", tokenizer);
  const std::optional<int> end_token = single_token(options.end_text, "end_text", tokenizer);
  const bool left = options.padding == "left";

  // Shuffle the texts before filtering, as OpenAI's generators do, so the kept queries come out in
  // the same order.
  std::vector<std::size_t> order(texts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (options.shuffle) order = shuffled_indices(texts.size(), options.shuffle_seed);

  std::vector<Query> processed(texts.size());
  std::vector<QueryCut> cuts(texts.size());
  parallel_for(texts.size(), [&](std::size_t k) {
    Query& query = processed[k];
    query.source_index = order[k];
    query.text = options.clean_text ? clean_query_text(texts[order[k]]) : std::move(texts[order[k]]);
    if (!references.empty()) query.reference = std::move(references[order[k]]);
    std::vector<int> tokens = tokenizer.encode(query.text);
    cuts[k] = cut_query(tokens, options.query_length, start_token, end_token);
    if (cuts[k] != QueryCut::kept) return;
    query.length = static_cast<int>(tokens.size());
    query.tokens = pad_query(tokens, options.query_length, options.pad_id, left);
  });

  QueryDataset dataset;
  for (std::size_t k = 0; k < processed.size(); ++k) {
    switch (cuts[k]) {
      case QueryCut::kept:
        dataset.queries_.push_back(std::move(processed[k]));
        break;
      case QueryCut::no_start_token:
        ++dataset.skips_.no_start_token;
        break;
      case QueryCut::no_end_token:
        ++dataset.skips_.no_end_token;
        break;
      case QueryCut::empty:
        ++dataset.skips_.empty;
        break;
    }
  }
  if (dataset.queries_.empty()) throw_file_error(source, no_query_reason(texts.size(), dataset.skips_, options));

  dataset.prefix_ = tokenizer.encode(options.prefix);
  dataset.suffix_ = tokenizer.encode(options.suffix);
  dataset.query_length_ = options.query_length;
  dataset.pad_id_ = options.pad_id;
  dataset.reshuffle_ = options.shuffle && options.reshuffle_each_epoch;
  dataset.has_references_ = !references.empty();
  dataset.seed_ = options.shuffle_seed;
  spdlog::info(
      "{}: {} queries of {} tokens from {} texts ({} skipped: {} without the start token, {} without the "
      "end token, {} empty)",
      source, dataset.size(), options.query_length, texts.size(), dataset.skipped(), dataset.skips_.no_start_token,
      dataset.skips_.no_end_token, dataset.skips_.empty);
  return dataset;
}

std::vector<int> QueryDataset::context(std::size_t i) const {
  const Query& query = queries_.at(i);
  std::vector<int> ids;
  ids.reserve(prefix_.size() + query.tokens.size() + suffix_.size());
  ids.insert(ids.end(), prefix_.begin(), prefix_.end());
  ids.insert(ids.end(), query.tokens.begin(), query.tokens.end());
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  return ids;
}

std::vector<std::size_t> QueryDataset::epoch_order(std::size_t epoch) const {
  if (epoch == 0 || !reshuffle_) {
    std::vector<std::size_t> order(queries_.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    return order;
  }
  return shuffled_indices(queries_.size(), seed_ + epoch);
}

std::vector<std::size_t> QueryDataset::batch_indices(std::size_t batch_index, std::size_t batch_size) const {
  if (batch_size == 0) throw Error("query dataset: batch size must be >= 1");
  const std::size_t n = queries_.size();
  std::vector<std::size_t> indices;
  indices.reserve(batch_size);
  std::size_t cached_epoch = 0;
  std::vector<std::size_t> order;
  for (std::size_t position = batch_index * batch_size; indices.size() < batch_size; ++position) {
    const std::size_t epoch = position / n;
    if (order.empty() || epoch != cached_epoch) {
      order = epoch_order(epoch);
      cached_epoch = epoch;
    }
    indices.push_back(order[position % n]);
  }
  return indices;
}

}  // namespace rlhf::data
