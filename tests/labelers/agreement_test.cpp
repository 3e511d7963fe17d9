// Agreement between two label files on hand-made questions: matching in any order and with permuted
// samples, the rate, chance level, standard error and Wilson interval computed by hand, and the
// error for a question of A that B lacks.
#include "rlhf/labelers/agreement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
constexpr int kPad = 50259;

// Three questions of four samples; A's answers.
std::vector<data::Comparison> file_a() {
  return {
      {{1, 2, kPad}, {{10}, {11}, {12}, {13}}, 2},
      {{3}, {{20, kPad}, {21}, {22}, {23}}, 0},
      {{4}, {{30}, {31}, {32}, {33}}, 1},
  };
}

TEST(Agreement, MatchesQuestionsByContentInAnyOrder) {
  // B: the same questions in another order; question 1 with its samples permuted and fewer pads; one
  // extra question. B agrees on questions 0 and 1 (same sample content), not on 2.
  const std::vector<data::Comparison> b = {
      {{4}, {{30}, {31}, {32}, {33}}, 3},
      {{9}, {{1}, {2}, {3}, {4}}, 0},
      {{3}, {{23}, {22}, {21}, {20}}, 3},
      {{1, 2}, {{10}, {11}, {12}, {13}}, 2},
  };
  const Agreement r = agreement(file_a(), b);
  EXPECT_EQ(r.compared, 3u);
  EXPECT_EQ(r.agreed, 2u);
  EXPECT_EQ(r.only_in_b, 1u);
  EXPECT_DOUBLE_EQ(r.rate, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.chance, 0.25);
  EXPECT_NEAR(r.stderr_, 0.2721655269759087, 1e-12);  // sqrt(2/3 * 1/3 / 3)
  EXPECT_NEAR(r.ci_low, 0.20765960080204765, 1e-9);   // Wilson, z = 1.96
  EXPECT_NEAR(r.ci_high, 0.9385080552796037, 1e-9);
  EXPECT_NEAR(r.kappa, (2.0 / 3.0 - 0.25) / 0.75, 1e-12);

  const Agreement self = agreement(file_a(), file_a());
  EXPECT_EQ(self.agreed, 3u);
  EXPECT_DOUBLE_EQ(self.rate, 1.0);
  EXPECT_DOUBLE_EQ(self.stderr_, 0.0);
}

TEST(Agreement, AQuestionMissingFromBIsNamed) {
  std::vector<data::Comparison> b = file_a();
  b[2].samples[3] = {34};  // no longer the same question
  try {
    agreement(file_a(), b, kPad, "mine.json", "theirs.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("mine.json: record 2 (query [4])"));
    EXPECT_THAT(e.what(), HasSubstr("not among the questions of theirs.json"));
  }
  // A question twice in A but once in B.
  std::vector<data::Comparison> a = file_a();
  a.push_back(a[0]);
  EXPECT_THAT([&] { agreement(a, file_a()); }, ::testing::ThrowsMessage<Error>(HasSubstr("fewer times")));
  EXPECT_THROW(agreement({}, file_a()), Error);
}

// Two OpenAI-format files written by hand, read back as label files.
TEST(Agreement, OnHandWrittenLabelFiles) {
  const fs::path dir = fs::temp_directory_path() / ("rlhf_agreement_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_file_atomic(dir / "a.json", R"([
    {"query": [5, 6], "sample0": [1], "sample1": [2], "best": 0},
    {"query": [7], "sample0": [3, 50259], "sample1": [4, 50259], "best": 1},
    {"query": [8], "sample0": [5], "sample1": [6], "best": 1},
    {"query": [9], "sample0": [7], "sample1": [8], "best": 0}])");
  write_file_atomic(dir / "b.json", R"([
    {"query": [9], "sample0": [8], "sample1": [7], "best": 1},
    {"query": [8], "sample0": [5], "sample1": [6], "best": 0},
    {"query": [7], "sample0": [3, 50259], "sample1": [4, 50259], "best": 1},
    {"query": [5, 6], "sample0": [1], "sample1": [2], "best": 0}])");
  const auto tok = tokenizer::load_tokenizer(fs::path(RLHF_TEST_DATA) / "tiny-gpt2");
  const auto a = data::read_labels(dir / "a.json", *tok, {});
  const auto b = data::read_labels(dir / "b.json", *tok, {});
  const Agreement r = agreement(a.items, b.items);
  fs::remove_all(dir);
  EXPECT_EQ(r.agreed, 3u);
  EXPECT_DOUBLE_EQ(r.rate, 0.75);
  EXPECT_DOUBLE_EQ(r.chance, 0.5);
  EXPECT_NEAR(r.ci_low, 0.30064184258240184, 1e-9);
  EXPECT_NEAR(r.ci_high, 0.9544127391902995, 1e-9);
}

}  // namespace
}  // namespace rlhf::labelers
