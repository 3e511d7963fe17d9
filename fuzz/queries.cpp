// Fuzz target: the query dataset readers (include/rlhf/data/queries.h, text_files.h, cnndm.h). The input
// is one data file, written to a scratch file (the readers take paths) and read in every format: auto,
// text, jsonl, books, json, fortune, cnndm as a directory holding it as its one .story file, and cnndm as
// a URL list (against an empty stories_dir, with skip_missing_stories). The texts read by format auto then
// become queries (QueryDataset::from_texts with the tiny GPT-2 tokenizer of the fixtures), once with the
// defaults and once with books-style start/end tokens, cleaning and left padding; and the cnndm cleaning
// runs directly on the input too.
// Properties, besides "only rlhf::Error on bad input":
//   - every query is query_length ids, `length` real ones then pads (or pads then real ones, left), and
//     context(i) is prefix + query + suffix; batch_indices stay in range;
//   - a cnndm article (of valid UTF-8) is valid UTF-8 and already stripped; universal_newlines leaves no '\r'.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "rlhf/data/cnndm.h"
#include "rlhf/data/queries.h"
#include "rlhf/data/text_files.h"
#include "rlhf/tokenizer/pretokenize.h"

namespace {

using namespace rlhf;
using rlhf::fuzz::accepts;
namespace fs = std::filesystem;

bool valid_utf8(std::string_view text) {
  const auto segments = tokenizer::split_valid_utf8(text);
  return std::all_of(segments.begin(), segments.end(), [](const auto& s) { return s.valid; });
}

void check_dataset(const data::QueryDataset& dataset, const data::QueryOptions& options) {
  const auto length = static_cast<std::size_t>(options.query_length);
  for (std::size_t i = 0; i < dataset.size(); ++i) {
    const data::Query& query = dataset[i];
    FUZZ_CHECK(query.tokens.size() == length, "a query of the wrong length");
    FUZZ_CHECK(query.length >= 1 && static_cast<std::size_t>(query.length) <= length, "a query's length is wrong");
    const auto pads = static_cast<std::size_t>(std::count(query.tokens.begin(), query.tokens.end(), options.pad_id));
    FUZZ_CHECK(pads == length - static_cast<std::size_t>(query.length), "pads and length disagree");
    const bool left = options.padding == "left";
    const std::size_t first_pad = left ? 0 : static_cast<std::size_t>(query.length);
    for (std::size_t k = first_pad; k < first_pad + pads; ++k) FUZZ_CHECK(query.tokens[k] == options.pad_id, "a pad out of place");
    FUZZ_CHECK(dataset.context(i).size() == dataset.prefix_tokens().size() + length + dataset.suffix_tokens().size(),
               "context is not prefix + query + suffix");
  }
  for (const std::size_t batch : {0, 1}) {
    for (const std::size_t index : dataset.batch_indices(batch, 3)) FUZZ_CHECK(index < dataset.size(), "a batch index out of range");
  }
}

void make_queries(const std::vector<std::string>& texts) {
  const auto& tokenizer = fuzz::tiny_tokenizer();
  data::QueryOptions defaults;
  accepts([&] { check_dataset(data::QueryDataset::from_texts(texts, defaults, tokenizer), defaults); });
  data::QueryOptions books;
  books.query_length = 8;
  books.start_text = ".";
  books.end_text = ".";
  books.padding = "left";
  books.clean_text = true;
  books.prefix = "Article:\n\n";
  books.suffix = "\n\nTL;DR:";
  accepts([&] { check_dataset(data::QueryDataset::from_texts(texts, books, tokenizer), books); });
}

void check_cnndm_functions(std::string_view input) {
  const std::string text = data::universal_newlines(input);
  FUZZ_CHECK(text.find('\r') == std::string::npos, "universal_newlines left a '\\r'");
  std::string article;
  if (accepts([&] { article = data::cnndm_article(text); })) {
    FUZZ_CHECK(valid_utf8(article), "a cnndm article is not valid UTF-8");
    FUZZ_CHECK(data::python_strip(article) == article, "a cnndm article is not stripped");
    FUZZ_CHECK(data::clean_query_text(article).size() <= article.size(), "clean_query_text grew a text");
  }
  const std::string line(input.substr(0, input.find('\n')));
  accepts([&] { data::cnndm_story_path(line); });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  fuzz::tiny_tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = fuzz::scratch_dir("queries");
  static const fs::path file = dir / "queries";  // no '.': also a fortune file name
  static const fs::path stories = dir / "stories";
  static const fs::path empty_stories = dir / "empty";
  static const bool made = fs::create_directories(stories) && fs::create_directories(empty_stories);
  (void)made;
  const std::string_view input = fuzz::as_text(data, size);
  fuzz::write_bytes(file, input);
  fuzz::write_bytes(stories / "input.story", input);

  data::QueryOptions options;
  options.path = file.string();
  std::vector<std::string> texts;
  if (accepts([&] { texts = data::read_texts(options); })) make_queries(texts);
  for (const char* format : {"text", "jsonl", "books", "json", "fortune"}) {
    options.format = format;
    accepts([&] { data::read_texts(options); });
  }
  options.format = "cnndm";
  options.path = stories.string();
  accepts([&] { data::read_texts(options); });
  options.path = file.string();
  options.stories_dir = empty_stories.string();
  options.skip_missing_stories = true;
  accepts([&] { data::read_texts(options); });

  check_cnndm_functions(input);
  return 0;
}
