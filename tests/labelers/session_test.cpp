// The labeling session of `rlhf label` without a terminal: answers, skips and undo move the position;
// the progress and label files after every answer; resuming; a changed question file; word wrap.
#include "rlhf/labelers/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<data::Comparison> three_questions() {
  return {{{1, 2}, {{3}, {4, 5}, {6}}, -1}, {{7}, {{8}, {9}, {10, 50259}}, -1}, {{11}, {{12}, {13}, {14}}, -1}};
}

class SessionFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_session_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

TEST(LabelSession, AnswerSkipUndoMoveThePosition) {
  LabelSession s(three_questions());
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.num_samples(), 3);
  EXPECT_EQ(s.position(), 0u);
  EXPECT_FALSE(s.undo());  // nothing to undo yet
  s.answer(2, 1.5);
  EXPECT_EQ(s.position(), 1u);
  EXPECT_EQ(s.current().query, std::vector<int>{7});
  s.skip(0.25);
  EXPECT_EQ(s.labeled(), 1u);
  EXPECT_EQ(s.skipped(), 1u);
  EXPECT_TRUE(s.undo());  // back to question 1, its skip forgotten
  EXPECT_EQ(s.position(), 1u);
  EXPECT_EQ(s.skipped(), 0u);
  s.answer(0, 2.0);
  s.skip(3.0);
  EXPECT_TRUE(s.done());
  EXPECT_THROW(s.answer(0, 1.0), Error);
  EXPECT_THROW(s.skip(1.0), Error);
  EXPECT_THROW(s.current(), Error);
  ASSERT_EQ(s.answers().size(), 3u);
  EXPECT_EQ(s.answers()[0].best, 2);
  EXPECT_DOUBLE_EQ(s.answers()[0].seconds, 1.5);
  EXPECT_TRUE(s.answers()[2].skipped());
  const auto items = s.labeled_items();  // the skipped question is not a label
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].best, 2);
  EXPECT_EQ(items[1].query, std::vector<int>{7});
  EXPECT_EQ(items[1].best, 0);
}

TEST(LabelSession, RejectsAnswersOutsideTheSamples) {
  LabelSession s(three_questions());
  EXPECT_THROW(s.answer(3, 1.0), Error);
  EXPECT_THROW(s.answer(-1, 1.0), Error);
  EXPECT_EQ(s.position(), 0u);
  auto uneven = three_questions();
  uneven[1].samples.pop_back();
  EXPECT_THROW(LabelSession{uneven}, Error);
}

TEST(LabelSession, FingerprintSeesEveryId) {
  auto changed = three_questions();
  changed[2].samples[1][0] = 15;
  EXPECT_EQ(LabelSession(three_questions()).fingerprint(), LabelSession(three_questions()).fingerprint());
  EXPECT_NE(LabelSession(three_questions()).fingerprint(), LabelSession(changed).fingerprint());
  // The same ids split differently between query and sample are other questions.
  auto moved = three_questions();
  moved[0].query = {1};
  moved[0].samples[0] = {2, 3};
  EXPECT_NE(LabelSession(three_questions()).fingerprint(), LabelSession(moved).fingerprint());
}

TEST_F(SessionFiles, SavedLabelsAreOpenAiRecordsAndResume) {
  const fs::path labels = dir / "labels.json";
  LabelSession s(three_questions());
  s.answer(1, 2.5);
  s.skip(0.5);
  save_session(labels, s, "q.json");
  EXPECT_EQ(progress_path(labels), dir / "labels.json.progress.json");

  // The label file: only the answered, not skipped, question, with best and seconds.
  const auto records = nlohmann::ordered_json::parse(read_text_file(labels));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].dump(), R"({"query":[1,2],"sample0":[3],"sample1":[4,5],"sample2":[6],"best":1,"seconds":2.5})");
  // ... which read_labels reads (the extra "seconds" key is ignored).
  const auto tok = tokenizer::load_tokenizer(fs::path(RLHF_TEST_DATA) / "tiny-gpt2");
  const data::LabelSet set = data::read_labels(labels, *tok, {});
  ASSERT_EQ(set.items.size(), 1u);
  EXPECT_EQ(set.items[0].best, 1);
  EXPECT_THAT(set.items[0].samples[1], ElementsAre(4, 5));

  const auto progress = nlohmann::ordered_json::parse(read_text_file(progress_path(labels)));
  EXPECT_EQ(progress.at("questions"), 3);
  EXPECT_EQ(progress.at("answers").dump(),
            R"([{"question":0,"best":1,"seconds":2.5},{"question":1,"skipped":true,"seconds":0.5}])");

  LabelSession resumed(three_questions());
  ASSERT_TRUE(load_session(labels, resumed, "q.json"));
  EXPECT_EQ(resumed.position(), 2u);
  EXPECT_EQ(resumed.answers()[0].best, 1);
  EXPECT_DOUBLE_EQ(resumed.answers()[0].seconds, 2.5);
  EXPECT_TRUE(resumed.answers()[1].skipped());
  EXPECT_TRUE(resumed.undo());  // the skip can be undone after a restart
  EXPECT_EQ(resumed.position(), 1u);

  LabelSession fresh(three_questions());
  EXPECT_FALSE(load_session(dir / "other.json", fresh, "q.json"));
  EXPECT_EQ(fresh.position(), 0u);
}

TEST_F(SessionFiles, NothingAnsweredIsAnEmptyArray) {
  const fs::path labels = dir / "labels.json";
  save_session(labels, LabelSession(three_questions()), "q.json");
  EXPECT_EQ(read_text_file(labels), "[\n]\n");
  EXPECT_TRUE(nlohmann::json::parse(read_text_file(labels)).empty());
}

TEST_F(SessionFiles, ChangedQuestionsAreAnErrorNamingTheFiles) {
  const fs::path labels = dir / "labels.json";
  LabelSession s(three_questions());
  s.answer(0, 1.0);
  save_session(labels, s, "q.json");

  auto fewer = three_questions();
  fewer.pop_back();
  LabelSession a(fewer);
  try {
    load_session(labels, a, "new.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("new.json: the questions changed"));
    EXPECT_THAT(e.what(), HasSubstr("labels.json.progress.json was made for 3 questions"));
    EXPECT_THAT(e.what(), HasSubstr("this file has 2"));
  }
  auto edited = three_questions();
  edited[1].samples[0] = {20};
  LabelSession b(edited);
  EXPECT_THROW(load_session(labels, b, "new.json"), Error);
}

TEST_F(SessionFiles, MalformedProgressIsAnErrorNamingIt) {
  const fs::path labels = dir / "labels.json";
  LabelSession s(three_questions());
  write_file_atomic(progress_path(labels), "{not json");
  try {
    load_session(labels, s, "q.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("labels.json.progress.json: not valid JSON"));
  }
  save_session(labels, s, "q.json");
  std::string text = read_text_file(progress_path(labels));
  text.replace(text.find("\"answers\": ["), 12, R"("answers": [{"question": 0, "best": 7, "seconds": 1})");
  write_file_atomic(progress_path(labels), text);
  try {
    load_session(labels, s, "q.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("labels.json.progress.json: answer 7 is not a sample of question 0"));
  }
}

TEST(WrapText, WrapsWordsAndCutsLongOnes) {
  EXPECT_THAT(wrap_text("the cat sat on the mat", 7), ElementsAre("the cat", "sat on", "the mat"));
  EXPECT_THAT(wrap_text(" leading space", 20), ElementsAre("leading space"));
  EXPECT_THAT(wrap_text("abcdefghij", 4), ElementsAre("abcd", "efgh", "ij"));
  EXPECT_THAT(wrap_text("one\n\ntwo", 10), ElementsAre("one", "", "two"));
  EXPECT_THAT(wrap_text("", 10), ElementsAre(""));
  EXPECT_THAT(wrap_text("a\tb\x01", 10), ElementsAre("a b\xEF\xBF\xBD"));
  // Columns count code points: "é" is two bytes and one column.
  EXPECT_THAT(wrap_text("\xC3\xA9\xC3\xA9\xC3\xA9 ab", 3), ElementsAre("\xC3\xA9\xC3\xA9\xC3\xA9", "ab"));
}

}  // namespace
}  // namespace rlhf::labelers
