// Label collection as users run it on the tiny GPT-2: sample-for-labels -> mock-label -> train-reward,
// then the reward model as a labeler and `rlhf agreement` between the two label files; and the errors.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

// Token 54 is about 2% of the tiny model's samples: the truncate token, so rejection sampling ends.
const std::string kQuestionSets =
    " --set queries.format=text --set queries.query_length=8 --set questions.response_length=10"
    " --set questions.truncate_token=54 --set questions.truncate_after=3 --set questions.max_attempts=100"
    " --device cpu --threads 1 --log-level warn";

class LabelersCli : public Cli {
 protected:
  void write_queries() {
    std::string text;
    for (const char* s : {"The cat sat.", "A dog ran.", "She was here.", "He liked it.", "We went home.",
                          "They saw the sun.", "It was red.", "The man sang."}) {
      text += std::string(s) + "\n";
    }
    write_file_atomic(dir / "queries.txt", text);
  }
};

TEST_F(LabelersCli, SampleLabelTrainThenAgreement) {
  write_queries();
  const fs::path questions = dir / "questions.json";
  Result r = run("sample-for-labels --model " + kTiny.string() + " --queries " + (dir / "queries.txt").string() +
                 " -n 12 --num-samples 4 -o " + questions.string() + kQuestionSets);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary.at("questions"), 12);
  EXPECT_EQ(summary.at("samples"), 48);
  EXPECT_GE(summary.at("draws").get<int>(), 48);
  const auto records = nlohmann::json::parse(slurp(questions));
  ASSERT_EQ(records.size(), 12u);
  const int gave_up = summary.at("gave_up");
  int broken = 0;
  for (const auto& record : records) {
    EXPECT_FALSE(record.contains("best"));
    EXPECT_EQ(record.at("query").size(), 8u);
    for (int n = 0; n < 4; ++n) {
      // The rule: the first 54 at index >= 3 ends the sample, pads (50259) after it.
      const auto sample = record.at("sample" + std::to_string(n)).get<std::vector<int>>();
      ASSERT_EQ(sample.size(), 10u);
      std::size_t cut = 3;
      while (cut < sample.size() && sample[cut] != 54) ++cut;
      if (cut == sample.size()) {
        ++broken;
        continue;
      }
      for (std::size_t t = cut + 1; t < sample.size(); ++t) EXPECT_EQ(sample[t], 50259);
    }
  }
  EXPECT_EQ(broken, gave_up);
  EXPECT_THAT(slurp(dir / "questions.txt"), HasSubstr("=== question 11 ==="));
  EXPECT_TRUE(fs::exists(dir / "questions.json.config.json"));

  // Mock labels: the sample with the most 54s is best.
  const fs::path labels = dir / "labels.json";
  r = run("mock-label --labeler token_count --token 54 --tokenizer " + kTiny.string() + " --in " + questions.string() +
          " -o " + labels.string() + " --threads 1 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto label_summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(label_summary.at("best_is_top_score"), 1.0);
  const auto labeled = nlohmann::json::parse(slurp(labels));
  ASSERT_EQ(labeled.size(), 12u);
  EXPECT_TRUE(labeled[0].contains("best"));
  EXPECT_EQ(labeled[5].at("sample2"), records[5].at("sample2"));
  EXPECT_THAT(slurp(dir / "labels.txt"), HasSubstr("* "));
  // Each record keeps the labeler's scores; the ceiling is the mean of 1/k over them (no noise).
  double ceiling = 0, tied = 0;
  for (const auto& record : labeled) {
    const auto scores = record.at("info").at("labeler_scores").get<std::vector<double>>();
    ASSERT_EQ(scores.size(), 4u);
    const double top = *std::max_element(scores.begin(), scores.end());
    const auto k = static_cast<double>(std::count(scores.begin(), scores.end(), top));
    EXPECT_EQ(scores[record.at("best").get<std::size_t>()], top);
    ceiling += 1 / k / 12;
    tied += k > 1 ? 1.0 / 12 : 0.0;
  }
  EXPECT_NEAR(label_summary.at("ceiling").get<double>(), ceiling, 1e-12);
  EXPECT_NEAR(label_summary.at("tied_share").get<double>(), tied, 1e-12);
  EXPECT_DOUBLE_EQ(label_summary.at("chance").get<double>(), 0.25);
  EXPECT_EQ(label_summary.at("split").at("train").at("questions"), 11);  // train-reward's default 10% held out
  EXPECT_EQ(label_summary.at("split").at("validation").at("questions"), 1);

  // The same ceiling previewed before labeling, from sample-for-labels.
  r = run("sample-for-labels --model " + kTiny.string() + " --queries " + (dir / "queries.txt").string() +
          " -n 12 --num-samples 4 -o " + (dir / "preview.json").string() + kQuestionSets +
          " --preview --labeler token_count --set labeler.token=54");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out).at("preview").at("ceiling").get<double>(), ceiling, 1e-12);

  // The label file trains a reward model.
  const fs::path rm = dir / "rm";
  r = run("train-reward --model " + kTiny.string() + " --labels " + labels.string() + " --output " + rm.string() +
          " --set normalization.samples=16 --set normalization.rollout_batch_size=16 --set training.batch_size=8"
          " --device cpu --threads 1 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(rm / "reward_model.json"));
  const auto training = nlohmann::json::parse(slurp(rm / "reward_model.json")).at("training");
  EXPECT_DOUBLE_EQ(training.at("chance").get<double>(), 0.25);
  EXPECT_TRUE(training.at("train_ceiling").is_number());

  // The reward model as the labeler, then agreement with the token-count labels.
  const fs::path rm_labels = dir / "rm_labels.json";
  r = run("mock-label --labeler reward_model --reward-model " + rm.string() + " --noise 0.1 --in " + labels.string() +
          " -o " + rm_labels.string() + " --device cpu --threads 1 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A reward model as the labeler never ties: the ceiling is what the noise leaves, 0.9 + 0.1 / 4.
  const auto rm_summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(rm_summary.at("tied_share"), 0.0);
  EXPECT_NEAR(rm_summary.at("ceiling").get<double>(), 0.925, 1e-12);
  r = run("agreement " + labels.string() + " " + rm_labels.string() + " -o " + (dir / "agreement.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("of 12 questions), chance 25.0%"));
  const auto result = nlohmann::json::parse(slurp(dir / "agreement.json"));
  EXPECT_EQ(result.at("compared"), 12);
  EXPECT_DOUBLE_EQ(result.at("chance").get<double>(), 0.25);
  EXPECT_LE(result.at("ci95_low").get<double>(), result.at("rate").get<double>());
}

TEST_F(LabelersCli, ErrorsNameTheProblem) {
  write_file_atomic(dir / "q.json", R"([{"query": [1], "sample0": [2], "sample1": [3]}])");
  expect_error(
      run("mock-label --labeler lexicon --in " + (dir / "q.json").string() + " -o " + (dir / "l.json").string()),
      "tokenizer");
  expect_error(run("mock-label --labeler token_count --tokenizer " + kTiny.string() + " --in " +
                   (dir / "q.json").string() + " -o " + (dir / "l.json").string()),
               "token: labeler kind is \"token_count\"");

  write_file_atomic(dir / "a.json", R"([{"query": [1], "sample0": [2], "sample1": [3], "best": 0},
                                        {"query": [4], "sample0": [5], "sample1": [6], "best": 1}])");
  write_file_atomic(dir / "b.json", R"([{"query": [1], "sample0": [3], "sample1": [2], "best": 1}])");
  const Result r = run("agreement " + (dir / "b.json").string() + " " + (dir / "a.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("agreement 100.0% (1 of 1 questions), chance 50.0%"));
  const Result missing = run("agreement " + (dir / "a.json").string() + " " + (dir / "b.json").string());
  expect_error(missing, "a.json: record 1 (query [4]) is not among the questions of");
  expect_error(run("agreement " + (dir / "q.json").string() + " " + (dir / "a.json").string()),
               "record 0: missing field \"best\"");

  expect_error(run("sample-for-labels --model " + kTiny.string() + " --queries " + (dir / "none.txt").string() +
                   " -n 2 -o " + (dir / "x.json").string() + " --device cpu"),
               "none.txt");
}

}  // namespace
}  // namespace rlhf::testing
