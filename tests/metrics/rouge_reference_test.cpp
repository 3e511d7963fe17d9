// Our ROUGE against the independent Python checker (scripts/rouge_reference.py, NLTK's Porter stemmer):
// the committed expected values, and the checker run again when Debian's Python with NLTK is here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "rlhf/metrics/rouge.h"
#include "rlhf/util/files.h"

namespace rlhf::metrics {
namespace {

namespace fs = std::filesystem;
const fs::path kRougeData = fs::path(RLHF_TEST_DATA) / "rouge";
const fs::path kScript = fs::path(RLHF_TEST_DATA).parent_path().parent_path() / "scripts" / "rouge_reference.py";

struct Case {
  std::string name, prediction, reference;
};

std::vector<Case> read_cases() {
  std::istringstream lines(read_text_file(kRougeData / "cases.jsonl"));
  std::vector<Case> cases;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    cases.push_back({j.at("name"), j.at("prediction"), j.at("reference")});
  }
  return cases;
}

void expect_matches(const RougeScore& ours, const nlohmann::json& theirs, const std::string& where) {
  EXPECT_NEAR(ours.precision, theirs.at("precision").get<double>(), 1e-6) << where;
  EXPECT_NEAR(ours.recall, theirs.at("recall").get<double>(), 1e-6) << where;
  EXPECT_NEAR(ours.f1, theirs.at("f1").get<double>(), 1e-6) << where;
}

// Every case of `expected[key]` scored by our Rouge(stem).
void expect_all_match(const nlohmann::json& expected, const char* key, bool stem) {
  const auto cases = read_cases();
  const auto& wanted = expected.at(key);
  ASSERT_EQ(wanted.size(), cases.size());
  Rouge scorer(stem);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string where = std::string(key) + " case " + std::to_string(i) + " (" + cases[i].name + ")";
    ASSERT_EQ(wanted[i].at("name"), cases[i].name) << where;
    const RougeScores ours = scorer.score(cases[i].prediction, cases[i].reference);
    expect_matches(ours.rouge1, wanted[i].at("rouge1"), where + " rouge1");
    expect_matches(ours.rouge2, wanted[i].at("rouge2"), where + " rouge2");
    expect_matches(ours.rougeL, wanted[i].at("rougeL"), where + " rougeL");
  }
}

TEST(RougeReference, FixtureIsLargeAndVaried) {
  const auto cases = read_cases();
  EXPECT_GE(cases.size(), 30u);
  const auto expected = nlohmann::json::parse(read_text_file(kRougeData / "expected.json"));
  EXPECT_EQ(expected.at("stemmer"), "original");  // NLTK's mode that agrees with Snowball's porter
  // Stemming must change something, or the stemmed comparison proves nothing.
  int differ = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    differ += expected.at("stem")[i].at("rouge1").at("f1") != expected.at("no_stem")[i].at("rouge1").at("f1");
  }
  EXPECT_GE(differ, 5);
}

TEST(RougeReference, StemmedScoresMatchTheChecker) {
  expect_all_match(nlohmann::json::parse(read_text_file(kRougeData / "expected.json")), "stem", true);
}

TEST(RougeReference, UnstemmedScoresMatchTheChecker) {
  expect_all_match(nlohmann::json::parse(read_text_file(kRougeData / "expected.json")), "no_stem", false);
}

// Runs the checker on the fixture, so the committed expected values are the checker's current answer
// and the checker itself is exercised. Needs Debian's Python with NLTK (python3-nltk).
TEST(RougeReference, CheckerRunAgainAgrees) {
  if (std::system("/usr/bin/python3 -c 'import nltk' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with nltk is not available (apt-get install python3-nltk)";
  }
  const fs::path out = fs::temp_directory_path() / ("rlhf_rouge_reference_" + std::to_string(::getpid()) + ".json");
  const std::string command = "/usr/bin/python3 " + kScript.string() + " " + (kRougeData / "cases.jsonl").string() +
                              " > " + out.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto fresh = nlohmann::json::parse(read_text_file(out));
  fs::remove(out);
  const auto committed = nlohmann::json::parse(read_text_file(kRougeData / "expected.json"));
  EXPECT_EQ(fresh, committed) << "regenerate tests/data/rouge/expected.json (see tests/data/rouge/README.md)";
  expect_all_match(fresh, "stem", true);
  expect_all_match(fresh, "no_stem", false);
}

}  // namespace
}  // namespace rlhf::metrics
