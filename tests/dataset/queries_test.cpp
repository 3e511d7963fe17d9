// Query datasets: OpenAI's start/truncate/end/pad processing with hand-computed ids of the tiny
// tokenizer, every file format, errors, skip counts, the shuffle and the endless batch order.
#include "rlhf/data/queries.h"

#include "dataset_test_util.h"
#include "rlhf/data/shuffle.h"

namespace rlhf::data {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::test_data;
using testing::tiny_tokenizer;
using testing::write_temp;
using V = std::vector<int>;
using Indices = std::vector<std::size_t>;

constexpr int P = kOpenAiPad;
constexpr int kDot = 13;
constexpr int kNewline = 198;

// Tiny-tokenizer ids of "Hello world. The cat sat on the mat. It was happy."
const V kHello = {498, 289, 78,  262, 277, 311, 13,  313, 273, 265, 260, 265, 316,
                  258, 274, 265, 13,  440, 317, 372, 64,  79,  79,  88,  13};
// " The cat sat on the mat." (after the first '.')
const V kAfterFirstDot = {313, 273, 265, 260, 265, 316, 258, 274, 265, 13};
// "Ends with a dot."
const V kEndsWithDot = {36, 77, 67, 82, 262, 72, 83, 71, 259, 370, 422, 13};

QueryOptions books_options(int query_length) {
  QueryOptions options;
  options.query_length = query_length;
  options.start_text = ".";
  options.end_text = ".";
  options.shuffle = false;
  return options;
}

V cut(V tokens, int query_length, std::optional<int> start, std::optional<int> end, QueryCut expected) {
  EXPECT_EQ(cut_query(tokens, query_length, start, end), expected);
  return tokens;
}

TEST(CutQuery, StartTruncateEnd) {
  EXPECT_EQ(tiny_tokenizer().encode("Hello world. The cat sat on the mat. It was happy."), kHello);
  // After the first '.', 8 tokens hold no '.': skipped.
  cut(kHello, 8, kDot, kDot, QueryCut::no_end_token);
  // 10 tokens end exactly at the second '.'.
  EXPECT_EQ(cut(kHello, 10, kDot, kDot, QueryCut::kept), kAfterFirstDot);
  // 12 tokens reach " It was"; the cut after the last '.' drops them.
  EXPECT_EQ(cut(kHello, 12, kDot, kDot, QueryCut::kept), kAfterFirstDot);
  // 64 tokens take the whole rest, which ends with '.'.
  EXPECT_EQ(cut(kHello, 64, kDot, kDot, QueryCut::kept),
            (V{313, 273, 265, 260, 265, 316, 258, 274, 265, 13, 440, 317, 372, 64, 79, 79, 88, 13}));
  // "One. Two. Three": the start cut drops "One.", the end cut drops " Three".
  EXPECT_EQ(cut({501, 13, 220, 51, 86, 78, 13, 220, 51, 71, 427}, 64, kDot, kDot, QueryCut::kept),
            (V{220, 51, 86, 78, 13}));
  // No start token: "One. Two. Three" ends after its last '.'.
  EXPECT_EQ(cut({501, 13, 220, 51, 86, 78, 13, 220, 51, 71, 427}, 64, std::nullopt, kDot, QueryCut::kept),
            (V{501, 13, 220, 51, 86, 78, 13}));
}

TEST(CutQuery, StartTokenCases) {
  // Missing start token: skipped.
  cut({45, 78, 297, 263, 72, 78, 67, 220, 322}, 64, kDot, std::nullopt, QueryCut::no_start_token);
  // Start token as the last token: the text stays unchanged (start token included).
  EXPECT_EQ(cut(kEndsWithDot, 64, kDot, std::nullopt, QueryCut::kept), kEndsWithDot);
  EXPECT_EQ(cut(kEndsWithDot, 64, kDot, kDot, QueryCut::kept), kEndsWithDot);
  // The truncation comes after the start cut; the end cut after the truncation.
  EXPECT_EQ(cut({87, 13, 220, 88}, 64, kDot, std::nullopt, QueryCut::kept), (V{220, 88}));
  cut({87, 13, 220, 88}, 64, kDot, kDot, QueryCut::no_end_token);
  EXPECT_EQ(cut({13, 13, 13}, 64, kDot, kDot, QueryCut::kept), (V{13, 13}));
}

TEST(CutQuery, PlainTruncationAndEmpty) {
  EXPECT_EQ(cut(kHello, 3, std::nullopt, std::nullopt, QueryCut::kept), (V{498, 289, 78}));
  EXPECT_EQ(cut({1, 2}, 3, std::nullopt, std::nullopt, QueryCut::kept), (V{1, 2}));
  cut({}, 3, std::nullopt, std::nullopt, QueryCut::empty);
  cut({}, 3, kDot, std::nullopt, QueryCut::no_start_token);
}

TEST(PadQuery, RightAndLeft) {
  EXPECT_EQ(pad_query({1, 2}, 5, P, false), (V{1, 2, P, P, P}));
  EXPECT_EQ(pad_query({1, 2}, 5, P, true), (V{P, P, P, 1, 2}));
  EXPECT_EQ(pad_query({1, 2}, 2, P, true), (V{1, 2}));
  EXPECT_THAT(error_of([] { pad_query({1, 2, 3}, 2, P, false); }), HasSubstr("3 tokens do not fit in 2"));
}

TEST(CleanQueryText, CollapsesNewlinesAndStrips) {
  EXPECT_EQ(clean_query_text("a\n\n\n\nb  \n"), "a\n\nb");
  EXPECT_EQ(clean_query_text("a\n\nb\nc"), "a\n\nb\nc");
  EXPECT_EQ(clean_query_text(" \t\r\n x y\x1f"), "x y");
  EXPECT_EQ(clean_query_text("\n\n\n"), "");
  // Python's strip() also removes Unicode spaces: U+00A0, U+3000 (but not U+180E).
  EXPECT_EQ(clean_query_text("\xC2\xA0"
                             "a\n\n\n\nb\xE3\x80\x80"),
            "a\n\nb");
  EXPECT_EQ(clean_query_text("\xE1\xA0\x8E"
                             "a"),
            "\xE1\xA0\x8E"
            "a");
}

TEST(QueryDataset, BooksFileWithStartAndEndDots) {
  QueryOptions options = books_options(12);
  options.path = (test_data() / "queries" / "books.jsonl").string();  // auto -> books
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  // "No period here" has no start token; "x. y" has no end token after it.
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data.skipped(), 2u);
  EXPECT_EQ(data.skips().no_start_token, 1u);
  EXPECT_EQ(data.skips().no_end_token, 1u);
  EXPECT_EQ(data.skips().empty, 0u);
  EXPECT_EQ(data.query_length(), 12);
  EXPECT_EQ(data[0].tokens, (V{313, 273, 265, 260, 265, 316, 258, 274, 265, 13, P, P}));
  EXPECT_EQ(data[0].length, 10);
  EXPECT_EQ(data[0].text, "Hello world. The cat sat on the mat. It was happy.");
  EXPECT_EQ(data[0].source_index, 0u);
  EXPECT_EQ(data[1].tokens, kEndsWithDot);
  EXPECT_EQ(data[1].length, 12);
  EXPECT_EQ(data[1].source_index, 2u);
  EXPECT_TRUE(data.prefix_tokens().empty());
  EXPECT_EQ(data.context(0), data[0].tokens);

  options.padding = "left";
  const QueryDataset left = QueryDataset::load(options, tiny_tokenizer());
  EXPECT_EQ(left[0].tokens, (V{P, P, 313, 273, 265, 260, 265, 316, 258, 274, 265, 13}));
}

TEST(QueryDataset, PrefixAndSuffixOnlyInTheContext) {
  QueryOptions options = books_options(12);
  options.path = (test_data() / "queries" / "books.jsonl").string();
  options.prefix = "Article:";
  options.suffix = "\n\nTL;DR:";
  options.pad_id = 600;
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  EXPECT_EQ(data.prefix_tokens(), (V{32, 81, 83, 72, 66, 270, 25}));
  EXPECT_EQ(data.suffix_tokens(), (V{kNewline, kNewline, 51, 43, 26, 35, 49, 25}));
  EXPECT_EQ(data[0].tokens, (V{313, 273, 265, 260, 265, 316, 258, 274, 265, 13, 600, 600}));          // the bare query
  EXPECT_EQ(data.context(0), (V{32,       81,       83,  72,  66,  270, 25,                           // prefix
                                313,      273,      265, 260, 265, 316, 258, 274, 265, 13, 600, 600,  // padded query
                                kNewline, kNewline, 51,  43,  26,  35,  49,  25}));                   // suffix
}

TEST(QueryDataset, TextFileOneQueryPerLine) {
  QueryOptions options;
  options.path = (test_data() / "queries" / "texts.txt").string();
  options.query_length = 4;
  options.shuffle = false;
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  ASSERT_EQ(data.size(), 3u);  // the blank line is not a text
  EXPECT_EQ(data.skipped(), 0u);
  EXPECT_EQ(data[0].tokens, (V{498, 289, 78, 262}));
  EXPECT_EQ(data[1].tokens, (V{45, 78, 297, 263}));
  EXPECT_EQ(data[2].tokens, (V{501, 13, 220, 51}));
  EXPECT_EQ(data[2].source_index, 2u);
  EXPECT_EQ(data[2].text, "One. Two. Three");
}

TEST(QueryDataset, JsonlObjectsWithField) {
  QueryOptions options;
  options.path = (test_data() / "queries" / "objects.jsonl").string();
  options.query_length = 5;
  options.shuffle = false;
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].tokens, (V{299, 273, 265, 13, P}));  // "The cat."
  EXPECT_EQ(data[1].tokens, (V{87, 13, 220, 88, P}));    // "x. y"

  options.field = "content";
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("objects.jsonl: line 1: has no \"content\" field (its keys: id, text"));
}

TEST(QueryDataset, JsonArrayOfTldrRecords) {
  QueryOptions options;
  options.path = (test_data() / "queries" / "tldr.json").string();
  options.field = "content";
  options.query_length = 16;
  options.shuffle = false;
  options.clean_text = true;
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0].text, "The cat.\n\nIt was happy.");
  EXPECT_EQ(data[0].tokens, (V{299, 273, 265, 13, kNewline, kNewline, 40, 83, 317, 372, 64, 79, 79, 88, 13, P}));
  EXPECT_EQ(data[2].tokens, (V{364, 273, 265, P, P, P, P, P, P, P, P, P, P, P, P, P}));  // "the cat"

  options.clean_text = false;
  EXPECT_EQ(QueryDataset::load(options, tiny_tokenizer())[0].text, "The cat.\n\n\n\nIt was happy.  ");

  // cnndm-style: cut after the last newline.
  options.clean_text = true;
  options.end_text = "\n";
  const QueryDataset cut = QueryDataset::load(options, tiny_tokenizer());
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut.skips().no_end_token, 2u);
  EXPECT_EQ(cut[0].tokens, (V{299, 273, 265, 13, kNewline, kNewline, P, P, P, P, P, P, P, P, P, P}));
  EXPECT_EQ(cut[0].length, 6);
}

TEST(QueryDataset, ReferenceSummariesFollowTheirTextsThroughTheShuffle) {
  const TempDir dir;
  QueryOptions options;
  options.path = write_temp(dir, "tldr.json",
                            R"([{"content": "a b", "summary": "ra"}, {"content": "c d", "summary": "rc"},
                                {"content": "e f", "summary": "re"}])")
                     .string();
  options.field = "content";
  options.reference_field = "summary";
  options.query_length = 8;
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());  // shuffled: [0, 2, 1]
  ASSERT_TRUE(data.has_references());
  ASSERT_EQ(data.size(), 3u);
  for (std::size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(data[i].reference, std::string("r") + data[i].text[0]) << data[i].text;
  }
  EXPECT_NE(data[1].text, "c d");  // the shuffle moved them

  options.path = write_temp(dir, "tldr.jsonl", "{\"content\": \"a b\", \"summary\": \"ra\"}\n{\"content\": \"c\"}\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("tldr.jsonl: line 2: has no \"summary\" field"));
  options.path = write_temp(dir, "strings.json", R"(["a b"])").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("strings.json: element 0: expected an object with \"content\" and \"summary\", got"));
  options.path = write_temp(dir, "plain.txt", "a b\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("plain.txt: reference_field is set, but the format \"text\" has no fields"));

  options.reference_field.clear();
  options.path = (test_data() / "queries" / "tldr.json").string();
  EXPECT_FALSE(QueryDataset::load(options, tiny_tokenizer()).has_references());
}

TEST(QueryDataset, JsonArrayOfStringsAndExplicitFormats) {
  TempDir dir;
  QueryOptions options;
  options.query_length = 2;
  options.shuffle = false;
  options.path = write_temp(dir, "q.json", "[\"x. y\", \"the cat\"]").string();
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1].tokens, (V{364, 273}));

  // A text line that looks like JSON is read literally with format text.
  // Auto decides by the first non-blank line: a partial JSON string is text.
  options.path = write_temp(dir, "q.txt", "\n\"quoted\" text\n{not json}\n").string();
  EXPECT_EQ(QueryDataset::load(options, tiny_tokenizer())[1].text, "{not json}");
  // A first line beginning with '{' means jsonl; format text reads such lines literally.
  options.path = write_temp(dir, "r.txt", "{not json}\nplain\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("r.txt: line 1: not valid JSON: column 3: syntax error while parsing object key"));
  options.format = "text";
  EXPECT_EQ(QueryDataset::load(options, tiny_tokenizer())[0].text, "{not json}");
}

TEST(QueryDatasetErrors, BadFiles) {
  TempDir dir;
  QueryOptions options;
  options.path = write_temp(dir, "books.jsonl", "\"a. b.\"\n\"c. d\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("books.jsonl: line 2: not valid JSON: "));
  options.path = write_temp(dir, "mixed.jsonl", "\"a. b.\"\n{\"text\": \"c\"}\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("mixed.jsonl: line 2: expected a JSON string (books format: one string per line), got "
                        "{\"text\":\"c\"}"));
  options.path = write_temp(dir, "bad.json", "[\"a\", 5]").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("bad.json: element 1: expected a string or an object with \"text\", got 5"));
  options.path = write_temp(dir, "broken.json", "[\"a\",\n \"b\" \"c\"]").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("broken.json: not valid JSON: parse error at line 2"));
  options.path = write_temp(dir, "number.jsonl", "{\"text\": 5}\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("number.jsonl: line 1: text: expected a string, got 5"));
  options.path = write_temp(dir, "empty.txt", "\n\n").string();
  EXPECT_EQ(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
            options.path + ": contains no texts (check path and format)");
  options.path = (dir.path() / "missing.txt").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("missing.txt: not found (the query dataset's path"));
  options.path = dir.path().string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr(": is a directory; set format to cnndm (a directory of .story files) or fortune"));
  options.format = "books";
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr(": is a directory; this format reads one file"));
  options.path = "";
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }), HasSubstr("path is not set"));
}

TEST(QueryDatasetErrors, StartAndEndMustBeOneToken) {
  QueryOptions options;
  options.start_text = "TL;DR:";
  EXPECT_THAT(error_of([&] { QueryDataset::from_texts({"a"}, options, tiny_tokenizer()); }),
              HasSubstr("start_text \"TL;DR:\" encodes to 6 tokens [51, 43, 26, 35, 49, 25]; it must be exactly one"));
  options.start_text = "";
  options.end_text = "\n\n";
  EXPECT_THAT(error_of([&] { QueryDataset::from_texts({"a"}, options, tiny_tokenizer()); }),
              HasSubstr("end_text \"\\n\\n\" encodes to 2 tokens"));
}

TEST(QueryDatasetErrors, NoUsableQuerySaysWhy) {
  const QueryOptions options = books_options(64);
  EXPECT_THAT(error_of([&] {
                QueryDataset::from_texts({"no dot", "none"}, options, tiny_tokenizer(), "f.txt");
              }),
              HasSubstr("f.txt: no text contains the start token \".\" (all 2 texts skipped); set start_text to "
                        "\"\" to start each query at the beginning of its text"));
  EXPECT_THAT(
      error_of([&] {
        QueryDataset::from_texts({"x. y", "a. b"}, options, tiny_tokenizer(), "f.txt");
      }),
      HasSubstr("f.txt: no text contains the end token \".\" within the first 64 tokens after the start token (all 2 "
                "texts skipped); raise query_length or set end_text to \"\""));
  EXPECT_THAT(error_of([&] {
                QueryDataset::from_texts({"x. y", "none"}, options, tiny_tokenizer(), "f.txt");
              }),
              HasSubstr("f.txt: all 2 texts were skipped: 1 lack the start token \".\", 1 lack the end token"));
  EXPECT_THAT(error_of([&] {
                QueryDataset::from_texts({"x. y", "none"}, options, tiny_tokenizer(), "f.txt");
              }),
              HasSubstr(", 0 are empty; set start_text to \"\" to start each query at the beginning of its text, or "
                        "raise query_length"));
  QueryOptions plain;
  EXPECT_THAT(error_of([&] {
                QueryDataset::from_texts({"", ""}, plain, tiny_tokenizer(), "f.txt");
              }),
              HasSubstr("f.txt: every text is empty (2 texts; check format and field)"));
  EXPECT_THAT(error_of([&] { QueryDataset::from_texts({}, plain, tiny_tokenizer(), "f.txt"); }),
              HasSubstr("f.txt: contains no texts"));
}

TEST(QueryDatasetErrors, NoUsableQueryInAFileStopsTheLoad) {
  QueryOptions options = books_options(64);
  options.path = (test_data() / "queries" / "texts.txt").string();
  options.format = "text";
  options.start_text = "\n";  // no line holds a newline
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("texts.txt: no text contains the start token \"\\n\" (all 3 texts skipped)"));
}

std::vector<std::string> numbered_texts(int n) {
  std::vector<std::string> texts;
  for (int i = 0; i < n; ++i) texts.push_back("t" + std::to_string(i) + (i % 2 == 1 ? "." : ""));
  return texts;
}

Indices source_indices(const QueryDataset& data) {
  Indices out;
  for (std::size_t i = 0; i < data.size(); ++i) out.push_back(data[i].source_index);
  return out;
}

TEST(QueryDatasetOrder, ShufflesTextsLikePythonBeforeFiltering) {
  QueryOptions options;  // shuffle = true, seed 0
  const QueryDataset data = QueryDataset::from_texts(numbered_texts(10), options, tiny_tokenizer());
  // Python: random.seed(0); random.shuffle(list(range(10))) -> [7, 8, 1, 5, 3, 4, 2, 0, 9, 6].
  EXPECT_EQ(source_indices(data), (Indices{7, 8, 1, 5, 3, 4, 2, 0, 9, 6}));
  EXPECT_EQ(data[0].text, "t7.");

  // Texts without the end token drop out of the shuffled order; the rest keep their places.
  options.end_text = ".";
  const QueryDataset odd = QueryDataset::from_texts(numbered_texts(10), options, tiny_tokenizer());
  EXPECT_EQ(source_indices(odd), (Indices{7, 1, 5, 3, 9}));
  EXPECT_EQ(odd.skips().no_end_token, 5u);

  options.end_text = "";
  options.shuffle_seed = 1;
  EXPECT_EQ(source_indices(QueryDataset::from_texts(numbered_texts(10), options, tiny_tokenizer())),
            (Indices{6, 8, 9, 7, 5, 3, 0, 4, 1, 2}));
  options.shuffle = false;
  EXPECT_EQ(source_indices(QueryDataset::from_texts(numbered_texts(3), options, tiny_tokenizer())), (Indices{0, 1, 2}));
}

TEST(QueryDatasetOrder, EndlessBatchesWrapAndReshuffle) {
  QueryOptions options;
  const QueryDataset data = QueryDataset::from_texts(numbered_texts(10), options, tiny_tokenizer());
  EXPECT_EQ(data.batch_indices(0, 4), (Indices{0, 1, 2, 3}));
  EXPECT_EQ(data.batch_indices(1, 4), (Indices{4, 5, 6, 7}));
  // Positions 8, 9 end epoch 0; epoch 1 is shuffled with seed 0 + 1: [6, 8, 9, 7, ...].
  EXPECT_EQ(data.batch_indices(2, 4), (Indices{8, 9, 6, 8}));
  EXPECT_EQ(data.epoch_order(1), shuffled_indices(10, 1));
  // A batch larger than the dataset spans three epochs.
  const Indices e2 = shuffled_indices(10, 2);
  const Indices e3 = shuffled_indices(10, 3);
  const Indices e4 = shuffled_indices(10, 4);
  Indices expected(e2.begin() + 5, e2.end());
  expected.insert(expected.end(), e3.begin(), e3.end());
  expected.insert(expected.end(), e4.begin(), e4.end());
  EXPECT_EQ(data.batch_indices(1, 25), expected);
  EXPECT_THAT(error_of([&] { data.batch_indices(0, 0); }), HasSubstr("batch size must be >= 1"));

  options.reshuffle_each_epoch = false;  // OpenAI: every epoch repeats the first order
  const QueryDataset repeat = QueryDataset::from_texts(numbered_texts(10), options, tiny_tokenizer());
  EXPECT_EQ(repeat.batch_indices(2, 4), (Indices{8, 9, 0, 1}));
  options.reshuffle_each_epoch = true;
  options.shuffle = false;
  const QueryDataset unshuffled = QueryDataset::from_texts(numbered_texts(10), options, tiny_tokenizer());
  EXPECT_EQ(unshuffled.batch_indices(7, 3), (Indices{1, 2, 3}));
}

TEST(QueryDataset, ManyTextsInParallel) {
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) texts.push_back(i % 3 == 0 ? "no dot here" : "It was happy. The cat.");
  QueryOptions options = books_options(8);
  const QueryDataset data = QueryDataset::from_texts(texts, options, tiny_tokenizer());
  EXPECT_EQ(data.size(), 2000u);
  EXPECT_EQ(data.skips().no_start_token, 1000u);
  for (std::size_t i = 0; i < data.size(); ++i) {
    ASSERT_EQ(data[i].tokens, (V{313, 273, 265, 13, P, P, P, P})) << i;  // " The cat."
  }
}

TEST(QueryDataset, RealGpt2Vocabulary) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  const auto gpt2 = tokenizer::load_tokenizer(dir);
  // Ids from the independent npm encoder gpt-3-encoder:
  //   "Hello world. The end. Bye" -> 15496 995 13 383 886 13 47843; "\n\nTL;DR:" -> 198 198 14990 26 7707 25.
  QueryOptions options = books_options(64);
  options.suffix = "\n\nTL;DR:";
  const QueryDataset data = QueryDataset::from_texts({"Hello world. The end. Bye", "no period"}, options, *gpt2);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data.skips().no_start_token, 1u);
  V expected = {383, 886, 13};
  expected.resize(64, P);
  EXPECT_EQ(data[0].tokens, expected);
  expected.insert(expected.end(), {198, 198, 14990, 26, 7707, 25});
  EXPECT_EQ(data.context(0), expected);
}

}  // namespace
}  // namespace rlhf::data
