// CNN/Daily Mail: the story cleaning on hand-made fixtures (expected articles derived by hand and
// checked by scripts/check_cnndm_cleaning.py, an independent Python implementation), the URL -> file
// mapping against `printf %s URL | sha1sum`, and the cnndm query format with its errors.
#include "rlhf/data/cnndm.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "dataset_test_util.h"
#include "rlhf/data/queries.h"

namespace rlhf::data {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::test_data;
using testing::tiny_tokenizer;
using testing::write_temp;
namespace fs = std::filesystem;

const fs::path kCnndm = test_data() / "queries" / "cnndm";
const char* const kUrlOne = "http://www.cnn.com/2013/06/10/world/example-one/index.html";
const char* const kUrlTwo = "http://www.dailymail.co.uk/news/article-0000001/Example-two.html";

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> texts_of(const QueryDataset& data) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < data.size(); ++i) texts.push_back(data[i].text);
  return texts;
}

TEST(CnndmSha1, KnownDigests) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(CnndmStoryPath, SiteAndSha1OfTheUrl) {
  // Digests from `printf %s URL | sha1sum`.
  EXPECT_EQ(cnndm_story_path(kUrlOne), "cnn/stories/218ebd1f996c37aaffc1124d7eba2144828a8163.story");
  EXPECT_EQ(cnndm_story_path(kUrlTwo), "dailymail/stories/19edd444b6426aaede60861eda8e3b231e6c5855.story");
  EXPECT_EQ(cnndm_story_path("https://edition.cnn.com/2014/01/01/us/example-three/"),
            "cnn/stories/f701840352f52c03ee6c719b0068a7a779097dff.story");
  EXPECT_EQ(cnndm_story_path("http://cnn.hk/x").substr(0, 12), "cnn/stories/");
  EXPECT_EQ(cnndm_story_path("http://www.mailonsunday.ie/x").substr(0, 18), "dailymail/stories/");
  EXPECT_EQ(cnndm_story_path("http://lib.store.yahoo.net/x").substr(0, 18), "dailymail/stories/");
  // Daily Mail is tested first, as in the paper's code.
  EXPECT_EQ(cnndm_story_path("http://dailymail.co.uk/cnn.com").substr(0, 18), "dailymail/stories/");
  EXPECT_THAT(error_of([] { cnndm_story_path("http://example.org/news"); }),
              HasSubstr("URL http://example.org/news is neither a CNN nor a Daily Mail URL"));
}

TEST(CnndmText, UniversalNewlinesAndPythonStrip) {
  EXPECT_EQ(universal_newlines("a\r\nb\rc\n\r\r\nd\r"), "a\nb\nc\n\n\nd\n");
  EXPECT_EQ(python_strip(" \t\x1c\xC2\xA0\xE3\x80\x80x y\xE2\x80\xA9\xC2\x85\n"), "x y");
  // U+180E has not been whitespace since Unicode 6.3 (Python: isspace() is False); U+00E9 is a letter.
  EXPECT_EQ(python_strip("\xE1\xA0\x8E"
                         "a\xC3\xA9 "),
            "\xE1\xA0\x8E"
            "a\xC3\xA9");
  EXPECT_EQ(python_strip("\xE2\x80\x8A\xE2\x80\x8B"), "\xE2\x80\x8B");  // U+200A is space, U+200B is not
  EXPECT_EQ(python_strip(" \n "), "");
}

// Every cases/NAME.story gives cases/NAME.expected.
TEST(CnndmCleaning, HandMadeFixtures) {
  std::vector<fs::path> stories;
  for (const auto& entry : fs::directory_iterator(kCnndm / "cases")) {
    if (entry.path().extension() == ".story") stories.push_back(entry.path());
  }
  ASSERT_EQ(stories.size(), 18u);
  for (const fs::path& story : stories) {
    fs::path expected = story;
    expected.replace_extension(".expected");
    EXPECT_EQ(cnndm_article(universal_newlines(file_bytes(story))), file_bytes(expected)) << story.filename();
  }
}

TEST(CnndmCleaning, RulesOneByOne) {
  // Byline: the first two lines go, even when the first is the only one.
  EXPECT_EQ(cnndm_clean_up_start("By X\nY\nZ"), "Z");
  EXPECT_EQ(cnndm_clean_up_start("By X\nY"), "");
  EXPECT_EQ(cnndm_clean_up_start("by x\ny\nz"), "by x\ny\nz");
  // "(CNN) --" needs at least one space; "(CNN)" without it is cut only within the first 100 characters.
  EXPECT_EQ(cnndm_clean_up_start("A (CNN)-- b"), "-- b");
  EXPECT_EQ(cnndm_clean_up_start("A (CNN)   -- b (CNN) -- c"), "c");
  EXPECT_EQ(cnndm_clean_up_start(std::string(100, 'x') + "(CNN) y"), std::string(100, 'x') + "(CNN) y");
  EXPECT_EQ(cnndm_clean_up_start(std::string(95, 'x') + "(CNN) y"), "y");
  EXPECT_EQ(cnndm_clean_up_start("a (CNN) b (CNN) c"), "c");
  // "and <word>\n" only at the very start, with Unicode letters and digits.
  EXPECT_EQ(cnndm_clean_up_start("and \xC3\x89mile2_\nrest"), "rest");
  EXPECT_EQ(cnndm_clean_up_start("x\nand Bob\nrest"), "x\nand Bob\nrest");
  EXPECT_EQ(cnndm_clean_up_start("and Bob-Ray\nrest"), "and Bob-Ray\nrest");
  // UPDATED: the match runs to the last of [012345|] on its line.
  EXPECT_EQ(cnndm_clean_up_start("UPDATED: 10:22 GMT, 3 March 2016\nText"), "6\nText");
  EXPECT_EQ(cnndm_clean_up_start("UPDATED: 10:22 GMT, 3 March 2019|\nText"), "Text");
  EXPECT_EQ(cnndm_clean_up_start("UPDATED: 1:22 2013\nText"), "UPDATED: 1:22 2013\nText");
  EXPECT_EQ(cnndm_clean_up_start("UPDATED: 10:22 2013 and UPDATED: 11:00 x4\nText"), "Text");
  // Curly single quotes become straight ones; double ones stay (ftfy would change them).
  EXPECT_EQ(cnndm_clean_up_start("\xE2\x80\x98Hi\xE2\x80\x99 \xE2\x80\x9Cyo\xE2\x80\x9D"),
            "'Hi' \xE2\x80\x9Cyo\xE2\x80\x9D");
  EXPECT_THAT(error_of([] { cnndm_clean_up_start("ok \xFF bad"); }), HasSubstr("not valid UTF-8 at byte 3"));
}

TEST(CnndmCleaning, ArticleKeepsTextBeforeTheFirstHighlight) {
  EXPECT_EQ(cnndm_article("a\n\n\n\nb\n@highlight\nc\n@highlight\nd"), "a\n\nb");
  EXPECT_EQ(cnndm_article("a @highlight b"), "a");
  EXPECT_EQ(cnndm_article("@highlight"), "");
}

TEST(CnndmHighlights, TheLineAfterEachMarkerJoinedByNewlines) {
  EXPECT_EQ(cnndm_highlights("a\n\n@highlight\n\nFirst one.\n\n@highlight\n\n  Second.  \n"), "First one.\nSecond.");
  EXPECT_EQ(cnndm_highlights("no highlights"), "");
  EXPECT_EQ(cnndm_highlights("a\n@highlight"), "");                // a marker with nothing after it
  EXPECT_EQ(cnndm_highlights("@highlight\nx\ny\n@highlight\nz"), "x\nz");  // only the line right after
}

TEST(CnndmCleaning, LongLinesStayFast) {
  // The UPDATED pattern starts with '.*': long lines without a match must not make it quadratic.
  std::string text;
  for (int i = 0; i < 2000; ++i) text += std::string(500, 'x') + " UPDATED: 1 (CNN) ";
  text += "\n";
  const auto start = std::chrono::steady_clock::now();
  const std::string out = cnndm_article(text);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  EXPECT_EQ(out.size(), text.size() - 2);  // the final " \n" is stripped
}

QueryOptions cnndm_options(const fs::path& path) {
  QueryOptions options;
  options.format = "cnndm";
  options.path = path.string();
  options.query_length = 500;
  options.shuffle = false;
  return options;
}

TEST(CnndmQueries, DirectoryOfStoriesInNameOrder) {
  const QueryDataset data = QueryDataset::load(cnndm_options(kCnndm / "cases"), tiny_tokenizer());
  ASSERT_EQ(data.size(), 17u);
  EXPECT_EQ(data.skips().empty, 1u);  // 17-highlight-first has no article
  EXPECT_EQ(data[0].text, "The first paragraph.\n\nSecond paragraph.");
  EXPECT_EQ(data[0].source_index, 0u);
  EXPECT_EQ(data[16].text, "Body.");  // 18-updated-python-space
  EXPECT_EQ(data[16].source_index, 17u);
}

TEST(CnndmQueries, UrlListWithStoriesDir) {
  QueryOptions options = cnndm_options(kCnndm / "url_lists" / "all_test.txt");
  options.stories_dir = (kCnndm / "stories").string();
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  // URL order; the blank line is no URL, the '\r' and the spaces around the third are stripped.
  EXPECT_EQ(texts_of(data), (std::vector<std::string>{"Story one begins here.\n\nIt has two paragraphs.", "Story two.",
                                                      "Story three."}));
  EXPECT_EQ(data.skipped(), 0u);
  ASSERT_TRUE(data.has_references());
  EXPECT_EQ(data[0].reference, "One");  // the highlights, for ROUGE

  // Shuffled like OpenAI's URL list: Python's random.seed(0); random.shuffle([0, 1, 2]) -> [0, 2, 1].
  options.shuffle = true;
  const QueryDataset shuffled = QueryDataset::load(options, tiny_tokenizer());
  EXPECT_EQ(shuffled[1].text, "Story three.");
  EXPECT_EQ(shuffled[1].source_index, 2u);

  // The cnndm task: the query is cut after its last newline.
  options.shuffle = false;
  options.end_text = "\n";
  const QueryDataset cut = QueryDataset::load(options, tiny_tokenizer());
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut.skips().no_end_token, 2u);
}

TEST(CnndmQueries, MissingStories) {
  TempDir dir;
  const std::string list =
      write_temp(dir, "all_val.txt", std::string(kUrlOne) + "\nhttp://www.cnn.com/missing.html\n" + kUrlTwo + "\n")
          .string();
  QueryOptions options = cnndm_options(list);
  options.stories_dir = (kCnndm / "stories").string();
  const std::string expected_file =
      (kCnndm / "stories" / "cnn" / "stories" / sha1_hex("http://www.cnn.com/missing.html")).string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr(options.stories_dir + ": 1 of the 3 stories of " + list +
                        " are missing, the first for line 2, http://www.cnn.com/missing.html (expected " +
                        expected_file + ".story); unpack cnn_stories.tgz"));
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("or set skip_missing_stories to leave them out"));

  options.skip_missing_stories = true;
  const QueryDataset data = QueryDataset::load(options, tiny_tokenizer());
  EXPECT_EQ(data.size(), 2u);
  EXPECT_EQ(data.skips().missing_story, 1u);
  EXPECT_EQ(data.skipped(), 1u);
  EXPECT_EQ(data[1].text, "Story two.");
  EXPECT_EQ(data[1].source_index, 1u);

  // A stories_dir without cnn/ and dailymail/: every story is missing, which skipping cannot mend.
  options.stories_dir = dir.path().string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }), HasSubstr(": 3 of the 3 stories of"));
}

TEST(CnndmQueries, ConfigurationErrors) {
  TempDir dir;
  QueryOptions options = cnndm_options(kCnndm / "url_lists" / "all_test.txt");
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("format cnndm with a URL list (" + options.path + ") needs stories_dir"));
  options.stories_dir = (dir.path() / "nope").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("nope: not a directory (stories_dir"));

  options.stories_dir = (kCnndm / "stories").string();
  options.path = write_temp(dir, "bad.txt", std::string(kUrlOne) + "\nhttp://example.org/a\n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("bad.txt: line 2: URL http://example.org/a is neither a CNN nor a Daily Mail URL"));
  options.path = write_temp(dir, "empty.txt", "\n \n").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("empty.txt: contains no URLs"));
  options.path = (dir.path() / "all_train.txt").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("all_train.txt: not found (the query dataset's path; scripts/download_datasets.sh"));

  // Directories: no .story files, with a hint when it is a stories_dir.
  options.path = dir.path().string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }), HasSubstr("holds no .story files"));
  options.path = (kCnndm / "stories").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("holds no .story files but cnn/stories or dailymail/stories: set path to a URL list"));

  // A story that is not UTF-8 (Python's open() refuses it too).
  fs::create_directories(dir.path() / "bad");
  write_temp(dir, "bad/a.story", "fine\nthen \xC3 broken");
  options.path = (dir.path() / "bad").string();
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("a.story: not valid UTF-8 at byte 10"));

  // A directory without format cnndm or fortune.
  options.format = "auto";
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("is a directory; set format to cnndm"));
  options.format = "text";
  EXPECT_THAT(error_of([&] { QueryDataset::load(options, tiny_tokenizer()); }),
              HasSubstr("is a directory; this format reads one file"));
}

}  // namespace
}  // namespace rlhf::data
