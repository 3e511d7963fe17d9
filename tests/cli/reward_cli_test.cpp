// `rlhf train-reward` and `rlhf score` as users run them: a whole run on the tiny model, and bad
// label files answered with the file, record and field, leaving an earlier reward model intact.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

// A JSON Lines label file whose best sample always contains " the".
std::string text_labels(int count) {
  std::string out;
  const char* words[] = {"cat", "dog", "sun", "hat", "red", "box"};
  for (int i = 0; i < count; ++i) {
    nlohmann::json samples = nlohmann::json::array();
    const int best = i % 4;
    for (int n = 0; n < 4; ++n) {
      samples.push_back(std::string(words[(i + n) % 6]) + (n == best ? " the the end" : " a big one"));
    }
    out += nlohmann::json({{"query", std::string("story ") + words[i % 6]}, {"samples", samples}, {"best", best}}).dump() + "\n";
  }
  return out;
}

class RewardCli : public Cli {
 protected:
  std::string train_args(const fs::path& labels, const fs::path& output) {
    return "train-reward --model " + kTiny.string() + " --labels " + labels.string() + " --output " + output.string() +
           " --set normalization.samples=32 --set normalization.rollout_batch_size=16 --set training.batch_size=8" +
           " --log-level warn";
  }
};

TEST_F(RewardCli, TrainsWritesAModelDirectoryAndScores) {
  const fs::path labels = dir / "labels.jsonl";
  write_file_atomic(labels, text_labels(64));
  const fs::path output = dir / "rm";
  const Result r = run(train_args(labels, output));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt", "reward_model.json",
                           "metrics.jsonl", "train_reward.config.json"}) {
    EXPECT_TRUE(fs::exists(output / name)) << name;
  }
  const auto info = nlohmann::json::parse(slurp(output / "reward_model.json"));
  EXPECT_TRUE(info.contains("normalization_after"));
  EXPECT_TRUE(info.at("training").contains("validation_accuracy"));

  const Result scored = run("score --reward-model " + output.string() +
                            " -q 'story cat' -r 'dog the the end' -q 'story cat' -r 'dog a big one' --log-level warn");
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  const auto results = nlohmann::json::parse(scored.out);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].at("reward").is_number());
}

TEST_F(RewardCli, BadRecordIsNamedAndTheOldModelSurvives) {
  const fs::path labels = dir / "labels.jsonl";
  write_file_atomic(labels, text_labels(64));
  const fs::path output = dir / "rm";
  ASSERT_EQ(run(train_args(labels, output)).exit_code, 0);
  const std::string before = slurp(output / "model.safetensors");

  const fs::path bad = dir / "bad.json";
  write_file_atomic(bad, R"([{"query": [1, 2], "sample0": [3], "sample1": [4], "sample2": [5], "sample3": [6], "best": 4}])");
  const Result r = run(train_args(bad, output));
  expect_error(r, "bad.json");
  EXPECT_THAT(r.err, HasSubstr("record 0"));
  EXPECT_THAT(r.err, HasSubstr("best"));
  EXPECT_EQ(slurp(output / "model.safetensors"), before);
}

TEST_F(RewardCli, ScoreRefusesAPlainModelDirectory) {
  expect_error(run("score --reward-model " + kTiny.string() + " -q a -r b"), "reward_model.json");
}

}  // namespace
}  // namespace rlhf::testing
