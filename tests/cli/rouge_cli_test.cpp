// `rlhf rouge` as users run it: a JSON Lines file in, a table and JSON out; stemming, lead-3, errors.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

class RougeCli : public Cli {
 protected:
  fs::path write_input(const std::vector<nlohmann::json>& records) {
    std::string text;
    for (const auto& r : records) text += r.dump() + "\n";
    const fs::path path = dir / "summaries.jsonl";
    write_file_atomic(path, text);
    return path;
  }
};

TEST_F(RougeCli, TableAndJsonWithCopyingStatistics) {
  // Line 1 copies the source's first sentence and matches its reference exactly (F1 1);
  // line 2 shares nothing with its reference (F1 0) and writes a novel sentence.
  const fs::path input = write_input({
      {{"prediction", "The mayor resigned on Monday."},
       {"reference", "the mayor resigned on monday"},
       {"source", "The mayor resigned on Monday. She cited health reasons."}},
      {{"prediction", "Cats purr."}, {"reference", "Dogs bark loudly."}, {"source", "A story about dogs."}},
  });
  const fs::path json = dir / "rouge.json";
  const Result r = run("rouge " + input.string() + " --json " + json.string() + " --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 examples, scored: prediction, stemming on"));
  EXPECT_THAT(r.out, HasSubstr("ROUGE-1   50.00  50.00  50.00"));
  EXPECT_THAT(r.out, HasSubstr("ROUGE-L"));
  EXPECT_THAT(r.out, HasSubstr("sentence novelty"));
  const auto j = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(j.at("examples"), 2);
  EXPECT_EQ(j.at("stem"), true);
  EXPECT_DOUBLE_EQ(j.at("rouge1").at("f1").at("mean").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j.at("rouge1").at("f1").at("stderr").get<double>(), 0.5);  // sd(1, 0) / sqrt(2)
  // 1 of 2 summary sentences copied; 1 of 2 summaries copies the start.
  EXPECT_DOUBLE_EQ(j.at("copying").at("novelty").at("value").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j.at("copying").at("copies_start").at("mean").get<double>(), 0.5);
  EXPECT_EQ(j.at("per_example")[0].at("copying").at("longest_span").at("source_sentence"), 0);
  EXPECT_TRUE(fs::exists(dir / "rouge.json.config.json"));
}

TEST_F(RougeCli, StemmingIsOnByDefaultAndCanBeTurnedOff) {
  // Stemmed, "runs" and "running" both become "run": R-1 F1 1. Unstemmed only "he" matches: 0.5.
  const fs::path input = write_input({{{"prediction", "He runs"}, {"reference", "he running"}}});
  const fs::path json = dir / "rouge.json";
  Result r = run("rouge " + input.string() + " --json " + json.string() + " --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(slurp(json)).at("rouge1").at("f1").at("mean").get<double>(), 1.0);
  EXPECT_TRUE(nlohmann::json::parse(slurp(json)).at("copying").is_null());  // no sources
  r = run("rouge " + input.string() + " --no-stem --json " + json.string() + " --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("stemming off"));
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(slurp(json)).at("rouge1").at("f1").at("mean").get<double>(), 0.5);
}

TEST_F(RougeCli, Lead3ScoresTheSourceOpening) {
  // Lead-3 = "Rain fell. Roads flooded. Schools closed." (4th sentence dropped); the reference has the
  // same 6 tokens, so every score is 1; the prediction field is not needed.
  const fs::path input = write_input({{{"reference", "rain fell roads flooded schools closed"},
                                       {"source", "Rain fell. Roads flooded. Schools closed. Nobody was hurt."}}});
  const fs::path json = dir / "lead3.json";
  const Result r = run("rouge " + input.string() + " --lead3 --json " + json.string() + " --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("scored: lead-3 of the source"));
  const auto j = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(j.at("scored"), "lead3");
  EXPECT_DOUBLE_EQ(j.at("rougeL").at("f1").at("mean").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j.at("copying").at("copies_start").at("mean").get<double>(), 1.0);
}

TEST_F(RougeCli, BadInputNamesFileLineAndField) {
  const fs::path input = write_input({{{"prediction", "a"}, {"reference", "b"}}, {{"prediction", "c"}}});
  expect_error(run("rouge " + input.string()), input.string() + ": line 2: field \"reference\" is missing");
  const fs::path no_source = write_input({{{"prediction", "a"}, {"reference", "b"}}});
  expect_error(run("rouge " + no_source.string() + " --lead3"), "line 1: field \"source\" is missing");
  expect_error(run("rouge " + (dir / "missing.jsonl").string()), "missing.jsonl");
}

}  // namespace
}  // namespace rlhf::testing
