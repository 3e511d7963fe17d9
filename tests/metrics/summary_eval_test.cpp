// Scoring a JSON Lines file of summaries: reading (and its errors), lead-3, aggregation, JSON, table.
#include "rlhf/metrics/summary_eval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::metrics {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SummaryEval : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlhf_summary_eval_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& text) {
    const fs::path path = dir_ / "summaries.jsonl";
    write_file_atomic(path, text);
    return path;
  }

  // The message of the Error that reading `text` throws.
  std::string read_error(const std::string& text, bool need_prediction = true, bool need_source = false) {
    const fs::path path = write(text);
    try {
      read_summary_records(path, need_prediction, need_source);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for: " << text;
    return "";
  }

  fs::path dir_;
};

TEST_F(SummaryEval, ReadsRecordsSkippingBlankLines) {
  const auto records = read_summary_records(
      write("{\"prediction\": \"a b\", \"reference\": \"a\", \"id\": 7}\n\n{\"prediction\": \"\", \"reference\": \"c\", "
            "\"source\": \"S.\"}\r\n"),
      true, false);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[0].prediction, "a b");
  EXPECT_FALSE(records[0].source);
  EXPECT_EQ(records[1].line, 3u);
  EXPECT_EQ(*records[1].source, "S.");
}

TEST_F(SummaryEval, ErrorsNameFileLineAndField) {
  const std::string path = (dir_ / "summaries.jsonl").string();
  const std::string good = "{\"prediction\": \"p\", \"reference\": \"r\"}\n";
  EXPECT_THAT(read_error(good + "{\"prediction\": \"p\"}\n"), HasSubstr(path + ": line 2: field \"reference\" is missing"));
  EXPECT_THAT(read_error(good + good + "{\"prediction\": 3, \"reference\": \"r\"}\n"),
              HasSubstr("line 3: field \"prediction\": expected a string, got number"));
  EXPECT_THAT(read_error("{\"prediction\": \"p\", \"reference\": \"r\"\n"), HasSubstr("line 1: not valid JSON"));
  EXPECT_THAT(read_error("[1, 2]\n"), HasSubstr("line 1: expected a JSON object"));
  EXPECT_THAT(read_error(good, true, true), HasSubstr("line 1: field \"source\" is missing"));
  EXPECT_THAT(read_error("\n \n"), HasSubstr("no records"));
  // Lead-3 needs no prediction.
  EXPECT_EQ(read_summary_records(write("{\"reference\": \"r\", \"source\": \"s\"}\n"), false, true).size(), 1u);
}

TEST_F(SummaryEval, MeansStandardErrorsAndCopying) {
  // Line 1: identical (F1 1), line 2: disjoint (F1 0): mean 0.5, standard error sd(1, 0) / sqrt(2) = 0.5.
  const std::vector<SummaryRecord> records = {
      {1, "the cat sat", "the cat sat", std::string("the cat sat. Then it slept.")},
      {2, "dogs bark", "birds sing", std::nullopt},
  };
  SummaryEvalOptions options;
  options.bootstrap.samples = 200;
  const SummaryEvaluation e = evaluate_summaries(records, options);
  ASSERT_EQ(e.examples.size(), 2u);
  EXPECT_DOUBLE_EQ(e.rouge1.f1.mean, 0.5);
  EXPECT_DOUBLE_EQ(e.rouge1.f1.standard_error, 0.5);
  EXPECT_DOUBLE_EQ(e.rougeL.precision.mean, 0.5);
  EXPECT_GE(e.rouge1.f1.ci_low, 0.0);
  EXPECT_LE(e.rouge1.f1.ci_high, 1.0);
  ASSERT_TRUE(e.copying);  // from line 1 only
  EXPECT_EQ(e.copying->summaries, 1u);
  EXPECT_EQ(e.copying->copied_sentences, 1u);
  EXPECT_DOUBLE_EQ(e.copying->copies_start.mean, 1.0);

  const auto j = to_json(e, options);
  EXPECT_EQ(j.at("examples"), 2);
  EXPECT_EQ(j.at("scored"), "prediction");
  EXPECT_DOUBLE_EQ(j.at("rouge2").at("f1").at("stderr").get<double>(), 0.5);
  EXPECT_EQ(j.at("copying").at("novelty").at("value"), 0.0);
  // "sat" and "sat." are different words: the longest span is "the cat".
  EXPECT_EQ(j.at("per_example")[0].at("copying").at("longest_span").at("words"), 2);
  EXPECT_FALSE(j.at("per_example")[1].contains("copying"));
  const std::string table = format_table(e, options);
  EXPECT_THAT(table, HasSubstr("ROUGE-1"));
  EXPECT_THAT(table, HasSubstr("sentence novelty"));
}

TEST_F(SummaryEval, Lead3ScoresTheSourceOpening) {
  // Lead-3 of "Ab cd. Ef gh. Ij kl. Mn op." is "Ab cd. Ef gh. Ij kl.": against "ab cd ef gh ij kl" every unigram
  // matches (P = R = 1), and the copying statistics see a verbatim copy of the start.
  const std::vector<SummaryRecord> records = {{1, "", "ab cd ef gh ij kl", std::string("Ab cd. Ef gh. Ij kl. Mn op.")}};
  SummaryEvalOptions options;
  options.lead3 = true;
  const SummaryEvaluation e = evaluate_summaries(records, options);
  EXPECT_EQ(e.examples[0].summary, "Ab cd. Ef gh. Ij kl.");
  EXPECT_DOUBLE_EQ(e.rouge1.f1.mean, 1.0);
  EXPECT_DOUBLE_EQ(e.copying->copied_share.value, 1.0);
  EXPECT_DOUBLE_EQ(e.copying->copies_start.mean, 1.0);
  EXPECT_THROW(evaluate_summaries({{1, "p", "r", std::nullopt}}, options), Error);
}

}  // namespace
}  // namespace rlhf::metrics
