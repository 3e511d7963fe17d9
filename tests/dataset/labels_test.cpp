// Label files: the fixtures in tests/data/labels/ (hand-written, ids of the tiny tokenizer), every
// error case in a temporary file, skipping, limit, the validation split and the text writer.
#include "rlhf/data/labels.h"

#include <fstream>
#include <sstream>

#include "dataset_test_util.h"

namespace rlhf::data {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::test_data;
using testing::tiny_tokenizer;
using testing::write_temp;

constexpr int P = kOpenAiPad;

LabelSet read(const std::filesystem::path& path, LabelOptions options = {}) {
  return read_labels(path, tiny_tokenizer(), options);
}

// The message for an OpenAI-format file holding `records` (the text inside the array).
std::string openai_error(const std::string& records, LabelOptions options = {}) {
  TempDir dir;
  const auto path = write_temp(dir, "labels.json", "[" + records + "]");
  return error_of([&] { read(path, options); });
}

std::string jsonl_error(const std::string& lines, LabelOptions options = {}) {
  TempDir dir;
  const auto path = write_temp(dir, "labels.jsonl", lines);
  return error_of([&] { read(path, options); });
}

const char* kGood2 = R"({"query": [1, 2], "sample0": [3], "sample1": [4], "best": 0})";

TEST(Labels, ReadsOpenAiBestOf4WithPads) {
  const LabelSet set = read(test_data() / "labels" / "openai_best_of_4.json");
  ASSERT_EQ(set.items.size(), 3u);
  EXPECT_EQ(set.num_samples, 4);
  EXPECT_EQ(set.skipped, 0u);

  const Comparison& a = set.items[0];
  EXPECT_EQ(a.query, (std::vector<int>{313, 273, 265, 13, P, P}));
  ASSERT_EQ(a.samples.size(), 4u);
  EXPECT_EQ(a.samples[0], (std::vector<int>{440, 317, 372, P}));
  EXPECT_EQ(a.samples[1], (std::vector<int>{258, 274, 265, 13}));
  EXPECT_EQ(a.samples[2], (std::vector<int>{364, P, P, P}));
  EXPECT_EQ(a.samples[3], (std::vector<int>{511, P, P, P}));  // eos is a vocabulary id
  EXPECT_EQ(a.best, 1);

  // Keys in any order: samples are taken by their index, not their position.
  const Comparison& b = set.items[1];
  EXPECT_EQ(b.samples[0], (std::vector<int>{12, 13, 14, 15}));
  EXPECT_EQ(b.samples[3], (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(b.best, 3);
  EXPECT_EQ(set.items[2].query, (std::vector<int>{P, P, P, P, P, 13}));
  EXPECT_EQ(set.items[2].best, 0);

  LabelOptions forced;
  forced.format = "openai";
  EXPECT_EQ(read(test_data() / "labels" / "openai_best_of_4.json", forced).items.size(), 3u);
}

TEST(Labels, ReadsOpenAiBestOf2) {
  const LabelSet set = read(test_data() / "labels" / "openai_best_of_2.json");
  ASSERT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.num_samples, 2);
  EXPECT_EQ(set.items[0].samples[0], (std::vector<int>{440, 317, P}));
  EXPECT_EQ(set.items[0].best, 1);
  EXPECT_EQ(set.items[1].query, (std::vector<int>{87, 13, 220, 88}));
  EXPECT_EQ(set.items[1].best, 0);
}

TEST(Labels, ReadsTextJsonl) {
  const LabelSet set = read(test_data() / "labels" / "text.jsonl");
  ASSERT_EQ(set.items.size(), 3u);  // the blank line is not a record
  EXPECT_EQ(set.num_samples, 2);
  EXPECT_EQ(set.items[0].query, (std::vector<int>{299, 273, 265, 13}));                          // "The cat."
  EXPECT_EQ(set.items[0].samples[0], (std::vector<int>{258, 274, 265}));                         // " the mat"
  EXPECT_EQ(set.items[0].samples[1], (std::vector<int>{40, 83, 317, 372, 64, 79, 79, 88, 13}));  // "It was happy."
  EXPECT_EQ(set.items[0].best, 0);
  EXPECT_EQ(set.items[1].query, (std::vector<int>{87, 13, 220, 88}));     // "x. y"
  EXPECT_EQ(set.items[1].samples[1], (std::vector<int>{364, 273, 265}));  // "the cat"
  EXPECT_EQ(set.items[1].best, 1);
  EXPECT_TRUE(set.items[2].query.empty());  // an empty query is allowed (unconditional samples)
  EXPECT_EQ(set.items[2].samples[0], (std::vector<int>{87}));
}

TEST(Labels, PadIdOption) {
  TempDir dir;
  const auto path =
      write_temp(dir, "labels.json", R"([{"query": [1, 999], "sample0": [999], "sample1": [4], "best": 1}])");
  LabelOptions options;
  options.pad_id = 999;
  EXPECT_EQ(read(path, options).items[0].query, (std::vector<int>{1, 999}));
  EXPECT_THAT(
      error_of([&] { read(path); }),
      HasSubstr("record 0: query[1]: token id 999 is outside the vocabulary (0..511) and is not the pad id 50259"));
}

TEST(Labels, LimitTakesTheFirstRecordsAndRequiresThem) {
  LabelOptions options;
  options.limit = 2;
  const LabelSet set = read(test_data() / "labels" / "openai_best_of_4.json", options);
  ASSERT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.items[1].best, 3);

  options.limit = 5;
  EXPECT_THAT(error_of([&] { read(test_data() / "labels" / "openai_best_of_4.json", options); }),
              HasSubstr("openai_best_of_4.json: has 3 good records (0 skipped), fewer than limit 5"));
}

TEST(LabelErrors, BestOutOfRangeNamesFileRecordAndField) {
  TempDir dir;
  const std::string bad =
      R"({"query": [1], "sample0": [1], "sample1": [2], "sample2": [3], "sample3": [4], "best": 4})";
  const std::string good =
      R"({"query": [1], "sample0": [1], "sample1": [2], "sample2": [3], "sample3": [4], "best": 0})";
  const auto path = write_temp(dir, "labels.json", "[" + good + "," + bad + "]");
  EXPECT_EQ(error_of([&] { read(path); }), path.string() + ": record 1: best: must be in 0..3, got 4");
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample1": [2], "best": -1})"),
              HasSubstr("record 0: best: must be in 0..1, got -1"));
}

TEST(LabelErrors, BestNotAnInteger) {
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample1": [2], "best": 1.5})"),
              HasSubstr("record 0: best: expected an integer, got 1.5"));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample1": [2], "best": "1"})"),
              HasSubstr("record 0: best: expected an integer, got \"1\""));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample1": [2], "best": true})"),
              HasSubstr("best: expected an integer, got true"));
}

TEST(LabelErrors, VaryingNumberOfSamples) {
  const std::string three = R"({"query": [1], "sample0": [1], "sample1": [2], "sample2": [3], "best": 0})";
  EXPECT_THAT(openai_error(std::string(kGood2) + "," + three),
              HasSubstr("labels.json: record 1: has 3 samples (sample0..sample2), the first record has 2"));
}

TEST(LabelErrors, TokenIdsOutsideTheVocabulary) {
  EXPECT_THAT(
      openai_error(R"({"query": [1], "sample0": [1], "sample1": [2], "sample2": [0, 1, 2, 3, 4, 70000], "best": 0})"),
      HasSubstr("record 0: sample2[5]: token id 70000 is outside the vocabulary (0..511) and is not the pad id "
                "50259"));
  EXPECT_THAT(openai_error(R"({"query": [-1], "sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("record 0: query[0]: token id -1 is outside the vocabulary"));
  EXPECT_THAT(openai_error(R"({"query": [512], "sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("query[0]: token id 512 is outside the vocabulary (0..511)"));
  EXPECT_THAT(openai_error(R"({"query": [18446744073709551615], "sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("query[0]: token id 18446744073709551615 is outside the vocabulary"));
  EXPECT_THAT(openai_error(R"({"query": [4294967297], "sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("query[0]: token id 4294967297 is outside the vocabulary"));
}

TEST(LabelErrors, WrongTypes) {
  EXPECT_THAT(openai_error(R"({"query": "abc", "sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("labels.json: record 0: query: expected a list of token ids, got \"abc\""));
  EXPECT_THAT(openai_error(R"({"query": [1, 1.5], "sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("record 0: query[1]: expected an integer token id, got 1.5"));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": {"a": 1}, "sample1": [2], "best": 0})"),
              HasSubstr("record 0: sample0: expected a list of token ids, got {\"a\":1}"));
  EXPECT_THAT(openai_error(R"(5)"), HasSubstr("record 0: expected an object with \"query\""));
  EXPECT_THAT(openai_error(R"([1, 2])"), HasSubstr("record 0: expected an object with \"query\", \"sample0\""));
}

TEST(LabelErrors, MissingFields) {
  EXPECT_THAT(openai_error(R"({"sample0": [1], "sample1": [2], "best": 0})"),
              HasSubstr("record 0: missing field \"query\""));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample1": [2]})"),
              HasSubstr("record 0: missing field \"best\""));
  EXPECT_THAT(openai_error(R"({"query": [1], "best": 0})"), HasSubstr("record 0: missing field \"sample0\""));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample2": [2], "best": 0})"),
              HasSubstr("record 0: missing field \"sample1\" (the record has sample2)"));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "best": 0})"),
              HasSubstr("record 0: has only 1 sample (sample0); a comparison needs at least 2"));
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample01": [2], "best": 0})"),
              HasSubstr("key \"sample01\": sample indices have no leading zeros"));
}

TEST(LabelErrors, EmptySamplesAndLengthLimits) {
  EXPECT_THAT(openai_error(R"({"query": [1], "sample0": [1], "sample1": [], "best": 0})"),
              HasSubstr("record 0: sample1: is empty"));
  LabelOptions options;
  options.max_query_length = 3;
  options.max_sample_length = 2;
  // Pads count: the lengths are those stored.
  EXPECT_THAT(openai_error(R"({"query": [1, 2, 50259, 50259], "sample0": [1], "sample1": [2], "best": 0})", options),
              HasSubstr("record 0: query: has 4 tokens, more than max_query_length 3"));
  EXPECT_THAT(
      openai_error(R"({"query": [1, 2, 3], "sample0": [1, 2], "sample1": [2, 50259, 50259], "best": 0})", options),
      HasSubstr("record 0: sample1: has 3 tokens, more than max_sample_length 2"));
}

TEST(LabelErrors, BadFiles) {
  TempDir dir;
  const auto not_json = write_temp(dir, "a.json", "[\n  {\"query\": [1, 2,],\n");
  EXPECT_THAT(error_of([&] { read(not_json); }), HasSubstr("a.json: not valid JSON: parse error at line 2, column 19: "
                                                           "syntax error while parsing value - unexpected ']'"));
  const auto truncated = write_temp(dir, "b.json", std::string("[") + kGood2 + ",");
  EXPECT_THAT(error_of([&] { read(truncated); }), HasSubstr("b.json: not valid JSON: parse error at line 1"));
  const auto empty = write_temp(dir, "c.json", "");
  EXPECT_EQ(error_of([&] { read(empty); }), empty.string() + ": is empty: no label records");
  const auto blank = write_temp(dir, "d.json", " \n\t\n");
  EXPECT_THAT(error_of([&] { read(blank); }), HasSubstr("d.json: is empty"));
  const auto no_records = write_temp(dir, "e.json", " [ ] ");
  EXPECT_EQ(error_of([&] { read(no_records); }), no_records.string() + ": contains no label records");
  const auto other = write_temp(dir, "f.txt", "query,best\n");
  EXPECT_THAT(error_of([&] { read(other); }), HasSubstr("f.txt: is neither an OpenAI label file"));
  EXPECT_THAT(error_of([&] { read(dir.path() / "missing.json"); }), HasSubstr("missing.json"));

  LabelOptions openai;
  openai.format = "openai";
  EXPECT_THAT(error_of([&] { read(test_data() / "labels" / "text.jsonl", openai); }),
              HasSubstr("text.jsonl: format openai expects a JSON array of records, but the file begins with '{'"));
  LabelOptions jsonl;
  jsonl.format = "jsonl";
  EXPECT_THAT(error_of([&] { read(test_data() / "labels" / "openai_best_of_2.json", jsonl); }),
              HasSubstr("openai_best_of_2.json: line 1 (record 0): not valid JSON"));
}

TEST(LabelErrors, JsonlRecordsNameLineAndRecord) {
  const std::string good = R"({"query": "a", "samples": ["b", "c"], "best": 0})";
  EXPECT_THAT(jsonl_error(good + "\n\n{\"query\": \"a\", \"samples\": [\"b\", \"c\"], \"best\": 2}\n"),
              HasSubstr("labels.jsonl: line 3 (record 1): best: must be in 0..1, got 2"));
  EXPECT_THAT(jsonl_error(good + "\n{\"query\": \"a\", \n"),
              HasSubstr("labels.jsonl: line 2 (record 1): not valid JSON: column "));
  EXPECT_THAT(jsonl_error(R"({"query": 5, "samples": ["b", "c"], "best": 0})"),
              HasSubstr("line 1 (record 0): query: expected a string, got 5"));
  EXPECT_THAT(jsonl_error(R"({"query": "a", "samples": "b", "best": 0})"),
              HasSubstr("line 1 (record 0): samples: expected a list of strings, got \"b\""));
  EXPECT_THAT(jsonl_error(R"({"query": "a", "samples": ["b"], "best": 0})"),
              HasSubstr("samples: has 1 samples; a comparison needs at least 2"));
  EXPECT_THAT(jsonl_error(R"({"query": "a", "samples": ["b", ""], "best": 0})"),
              HasSubstr("line 1 (record 0): samples[1]: is empty"));
  EXPECT_THAT(jsonl_error(R"({"query": "a", "samples": ["b", [1]], "best": 0})"),
              HasSubstr("samples[1]: expected a string, got [1]"));
  EXPECT_THAT(jsonl_error(R"({"samples": ["b", "c"], "best": 0})"), HasSubstr("missing field \"query\""));
  EXPECT_THAT(jsonl_error(good + "\n" + R"({"query": "a", "samples": ["b", "c", "d"], "best": 0})"),
              HasSubstr("line 2 (record 1): has 3 samples, the first record has 2"));
  LabelOptions options;
  options.max_sample_length = 3;
  EXPECT_THAT(jsonl_error(R"({"query": "a", "samples": ["b", "It was happy."], "best": 0})", options),
              HasSubstr("samples[1]: has 9 tokens, more than max_sample_length 3"));
}

TEST(LabelSkipping, SkipsCountsAndKeepsReasons) {
  const std::string bad_best = R"({"query": [1], "sample0": [1], "sample1": [2], "best": 7})";
  const std::string three = R"({"query": [1], "sample0": [1], "sample1": [2], "sample2": [3], "best": 0})";
  TempDir dir;
  const auto path = write_temp(dir, "labels.json", "[" + bad_best + "," + kGood2 + "," + three + "," + kGood2 + "]");
  LabelOptions options;
  options.skip_bad_records = true;
  const LabelSet set = read(path, options);
  EXPECT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.num_samples, 2);
  EXPECT_EQ(set.skipped, 2u);
  ASSERT_EQ(set.skip_reasons.size(), 2u);
  EXPECT_EQ(set.skip_reasons[0], "record 0: best: must be in 0..1, got 7");
  EXPECT_EQ(set.skip_reasons[1], "record 2: has 3 samples (sample0..sample2), record 1 (the first good one) has 2");

  options.skip_bad_records = false;
  EXPECT_THAT(error_of([&] { read(path, options); }), HasSubstr("record 0: best: must be in 0..1, got 7"));
}

TEST(LabelSkipping, KeepsTenReasonsAndLimitCountsGoodRecords) {
  const std::string bad = R"({"query": [1], "sample0": [1], "sample1": [2], "best": 9})";
  std::string records;
  for (int i = 0; i < 15; ++i) records += bad + ",";
  records += std::string(kGood2) + "," + kGood2 + "," + kGood2;
  TempDir dir;
  const auto path = write_temp(dir, "labels.json", "[" + records + "]");
  LabelOptions options;
  options.skip_bad_records = true;
  options.limit = 2;
  const LabelSet set = read(path, options);
  EXPECT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.skipped, 15u);
  EXPECT_EQ(set.skip_reasons.size(), 10u);
  EXPECT_EQ(set.skip_reasons[9], "record 9: best: must be in 0..1, got 9");
}

TEST(LabelSkipping, AllBadIsAnError) {
  LabelOptions options;
  options.skip_bad_records = true;
  EXPECT_THAT(openai_error(R"({"query": [1]}, {"query": "x"})", options),
              HasSubstr("labels.json: all 2 records are bad; the first: record 0: missing field \"sample0\""));
  EXPECT_THAT(jsonl_error("{\n", options), HasSubstr("all 1 records are bad; the first: line 1 (record 0): not valid"));
}

TEST(SplitLabels, HoldsOutASeededFractionKeepingOrder) {
  std::vector<Comparison> items(10);
  for (int i = 0; i < 10; ++i) items[i].best = i;
  // Python: random.seed(0); x = list(range(10)); random.shuffle(x) -> [7, 8, 1, 5, 3, 4, 2, 0, 9, 6].
  const auto [train, validation] = split_labels(items, 0.3, 0);
  ASSERT_EQ(validation.size(), 3u);
  ASSERT_EQ(train.size(), 7u);
  EXPECT_EQ(validation[0].best, 1);
  EXPECT_EQ(validation[1].best, 7);
  EXPECT_EQ(validation[2].best, 8);
  std::vector<int> train_ids;
  for (const auto& c : train) train_ids.push_back(c.best);
  EXPECT_EQ(train_ids, (std::vector<int>{0, 2, 3, 4, 5, 6, 9}));

  const auto [all, none] = split_labels(items, 0.0, 0);
  EXPECT_EQ(all.size(), 10u);
  EXPECT_TRUE(none.empty());
  const auto again = split_labels(items, 0.3, 0);
  EXPECT_EQ(again.second[0].best, 1);
  const auto other_seed = split_labels(items, 0.3, 1);  // [6, 8, 9, ...]
  EXPECT_EQ(other_seed.second[0].best, 6);
}

TEST(SplitLabels, RejectsBadFractions) {
  std::vector<Comparison> items(2);
  EXPECT_THAT(error_of([&] { split_labels(items, 1.0, 0); }), HasSubstr("must be in [0, 1), got 1"));
  EXPECT_THAT(error_of([&] { split_labels(items, -0.1, 0); }), HasSubstr("must be in [0, 1)"));
  EXPECT_THAT(error_of([&] { split_labels(items, 0.9, 0); }), HasSubstr("no training labels would be left"));
  EXPECT_THAT(error_of([&] { split_labels({}, 0.1, 0); }), HasSubstr("cannot split 0 labels"));
}

TEST(WriteTextLabels, WritesJsonlThatReadsBack) {
  TempDir dir;
  const LabelSet set = read(test_data() / "labels" / "openai_best_of_2.json");
  const auto path = dir.path() / "out.jsonl";
  write_text_labels(path, set.items, tiny_tokenizer());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "{\"query\":\"The cat.\",\"samples\":[\" It was\",\" hap\"],\"best\":1}\n"
            "{\"query\":\"x. y\",\"samples\":[\".\",\" .\"],\"best\":0}\n");
  const LabelSet back = read(path);
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[0].query, (std::vector<int>{299, 273, 265, 13}));
  EXPECT_EQ(back.items[0].samples[0], (std::vector<int>{440, 317}));  // pads dropped
  EXPECT_EQ(back.items[0].best, 1);
}

TEST(WriteTextLabels, ReplacesBrokenUtf8) {
  TempDir dir;
  const auto byte_c3 = tiny_tokenizer().token_id("\xC3\x83");  // the byte-level symbol of byte 0xC3 ("Ã")
  ASSERT_TRUE(byte_c3.has_value());
  Comparison c;
  c.query = {*byte_c3};
  c.samples = {{87}, {88}};
  const auto path = dir.path() / "out.jsonl";
  write_text_labels(path, {c}, tiny_tokenizer());
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "{\"query\":\"\xEF\xBF\xBD\",\"samples\":[\"x\",\"y\"],\"best\":0}");
  c.query = {600};
  EXPECT_THAT(error_of([&] { write_text_labels(path, {c}, tiny_tokenizer()); }), HasSubstr("out.jsonl: item 0: "));
}

TEST(Labels, ReadsAThousandRecords) {
  std::string records;
  for (int i = 0; i < 1000; ++i) {
    records += (i ? ",\n" : "") + std::string("{\"query\": [") + std::to_string(i % 500) +
               ", 50259], \"sample0\": [1, 2], \"sample1\": [3, 4], \"sample2\": [5], \"sample3\": [6], \"best\": " +
               std::to_string(i % 4) + "}";
  }
  TempDir dir;
  const LabelSet set = read(write_temp(dir, "big.json", "[" + records + "]"));
  ASSERT_EQ(set.items.size(), 1000u);
  EXPECT_EQ(set.items[999].query, (std::vector<int>{499, P}));
  EXPECT_EQ(set.items[999].best, 3);
}

TEST(Labels, RealGpt2VocabularyRange) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  const auto gpt2 = tokenizer::load_tokenizer(dir);
  TempDir temp;
  const auto good =
      write_temp(temp, "good.json", R"([{"query": [50256, 50259], "sample0": [0], "sample1": [13], "best": 1}])");
  EXPECT_EQ(read_labels(good, *gpt2, {}).items[0].query, (std::vector<int>{50256, P}));
  const auto bad = write_temp(temp, "bad.json", R"([{"query": [1], "sample0": [1], "sample1": [50257], "best": 0}])");
  EXPECT_THAT(error_of([&] { read_labels(bad, *gpt2, {}); }),
              HasSubstr("bad.json: record 0: sample1[0]: token id 50257 is outside the vocabulary (0..50256) and is "
                        "not the pad id 50259"));
}

}  // namespace
}  // namespace rlhf::data
