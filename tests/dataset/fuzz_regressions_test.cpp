// Inputs the fuzzers (fuzz/labels.cpp, fuzz/queries.cpp, docs/fuzzing.md) found to escape as something
// other than rlhf::Error; each is also in fuzz/regressions/labels/ or fuzz/regressions/queries/.
#include "dataset_test_util.h"
#include "rlhf/data/labels.h"
#include "rlhf/data/text_files.h"

namespace rlhf::data {
namespace {

using testing::error_of;
using testing::TempDir;
using testing::tiny_tokenizer;
using testing::write_temp;

LabelSet read_with(const std::filesystem::path& path, const std::string& format = "auto") {
  LabelOptions options;
  options.format = format;
  return read_labels(path, tiny_tokenizer(), options);
}

// nlohmann::json throws out_of_range (not parse_error) for a number beyond double's range; the readers
// caught only parse_error.
TEST(LabelFuzzRegressions, NumberBeyondDoubleIsAnError) {
  TempDir dir;
  const auto openai = write_temp(dir, "a.json", "[{\"query\": [1e999], \"sample0\": [1], \"sample1\": [2], \"best\": 0}]");
  EXPECT_EQ(error_of([&] { read_with(openai); }), openai.string() + ": not valid JSON: number overflow parsing '1e999'");
  const auto jsonl = write_temp(dir, "b.jsonl", "{\"query\": \"a\", \"samples\": [\"b\", \"c\"], \"best\": -1e400}\n");
  EXPECT_EQ(error_of([&] { read_with(jsonl); }),
            jsonl.string() + ": line 1 (record 0): not valid JSON: number overflow parsing '-1e400'");
  const auto bare = write_temp(dir, "c.jsonl", "1e999");  // the fuzzer's input, read as jsonl
  EXPECT_EQ(error_of([&] { read_with(bare, "jsonl"); }),
            bare.string() + ": line 1 (record 0): not valid JSON: number overflow parsing '1e999'");
}

TEST(QueryFuzzRegressions, NumberBeyondDoubleIsAnError) {
  TempDir dir;
  QueryOptions options;
  options.path = write_temp(dir, "a.json", "[{\"text\": \"a\"}, {\"text\": 1e999}]").string();
  EXPECT_EQ(error_of([&] { read_texts(options); }), options.path + ": not valid JSON: number overflow parsing '1e999'");
  options.path = write_temp(dir, "b.jsonl", "{\"text\": \"a\"}\n{\"text\": 2e999}\n").string();
  EXPECT_EQ(error_of([&] { read_texts(options); }),
            options.path + ": line 2: not valid JSON: number overflow parsing '2e999'");
  options.format = "books";
  options.path = write_temp(dir, "c.jsonl", "\"a\"\n-1e999\n").string();
  EXPECT_EQ(error_of([&] { read_texts(options); }),
            options.path + ": line 2: not valid JSON: number overflow parsing '-1e999'");
}

// nlohmann's dump() recurses: showing a record nested a million levels deep in an error message overflowed
// the stack. The readers refuse JSON nested deeper than 256 levels first.
TEST(LabelFuzzRegressions, DeepNestingIsRefusedNotAStackOverflow) {
  TempDir dir;
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  const auto openai = write_temp(dir, "a.json", "[" + deep + "]");
  EXPECT_EQ(error_of([&] { read_with(openai); }), openai.string() + ": JSON nested deeper than 256 levels at line 1, column 257");
  const auto jsonl = write_temp(dir, "b.jsonl", "{\"query\": \"a\"}\n{\"query\": " + deep + "}\n");
  EXPECT_EQ(error_of([&] { read_with(jsonl); }), jsonl.string() + ": JSON nested deeper than 256 levels at line 2, column 266");
}

TEST(QueryFuzzRegressions, DeepNestingIsRefusedNotAStackOverflow) {
  TempDir dir;
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  QueryOptions options;
  options.path = write_temp(dir, "a.json", "[\"a\", " + deep + "]").string();
  EXPECT_EQ(error_of([&] { read_texts(options); }), options.path + ": element 1: JSON nested deeper than 256 levels");
  options.path = write_temp(dir, "b.jsonl", "{\"text\": \"a\"}\n" + deep + "\n").string();
  EXPECT_EQ(error_of([&] { read_texts(options); }), options.path + ": line 2: JSON nested deeper than 256 levels");
}

}  // namespace
}  // namespace rlhf::data
