// `rlhf train-reward` and `rlhf score` as users run them: a whole run on the tiny model, and bad
// label files answered with the file, record and field, leaving an earlier reward model intact.
#include <nlohmann/json.hpp>
#include <sstream>

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
    out +=
        nlohmann::json({{"query", std::string("story ") + words[i % 6]}, {"samples", samples}, {"best", best}}).dump() +
        "\n";
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
  write_file_atomic(
      bad, R"([{"query": [1, 2], "sample0": [3], "sample1": [4], "sample2": [5], "sample3": [6], "best": 4}])");
  // A finished reward model is not replaced unless asked ...
  expect_error(run(train_args(bad, output)), "already holds a trained reward model; add --overwrite to replace it");
  // ... and when asked, a run that fails leaves it as it was.
  const Result r = run(train_args(bad, output) + " --overwrite");
  expect_error(r, "bad.json");
  EXPECT_THAT(r.err, HasSubstr("record 0"));
  EXPECT_THAT(r.err, HasSubstr("best"));
  EXPECT_EQ(slurp(output / "model.safetensors"), before);
}

// The shipped presets parse (every key known, every value in range): the run then stops at the
// missing model, not at the configuration.
TEST_F(RewardCli, PresetsAreValid) {
  for (const char* name : {"reward-sentiment.json", "reward-tldr.json"}) {
    const fs::path preset = kData.parent_path().parent_path() / "configs" / name;
    const Result r = run("train-reward --config " + preset.string());
    expect_error(r, "model: no pretrained model directory given");
  }
}

TEST_F(RewardCli, OpenAiLabelsTrainWithTheirOwnQueriesForNormalisation) {
  // No queries.path: the label file's (padded) queries are continued for the normalisation samples.
  const fs::path output = dir / "rm";
  const Result r = run(train_args(kData / "reward" / "openai_books.json", output) +
                       " --set training.validation_fraction=0.25 --set training.eval_interval=1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = nlohmann::json::parse(slurp(output / "reward_model.json"));
  EXPECT_EQ(info.at("pad_id"), 50259);
  EXPECT_EQ(info.at("training").at("train_count"), 18);
  EXPECT_EQ(info.at("training").at("validation_count"), 6);
  EXPECT_EQ(info.at("normalization_after").at("samples"), 32);
  // metrics.jsonl: the normalisations, one record per step (3 steps of 8, 8, 2) and the evaluations.
  std::istringstream lines(slurp(output / "metrics.jsonl"));
  std::string line;
  int steps = 0, evals = 0, normalizations = 0;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record.contains("normalization")) {
      ++normalizations;
    } else if (record.contains("eval")) {
      ++evals;
    } else {
      for (const char* key : {"step", "lr", "loss", "accuracy", "comparisons_per_s"}) EXPECT_TRUE(record.contains(key));
      ++steps;
    }
  }
  EXPECT_EQ(steps, 3);
  EXPECT_EQ(evals, 3);  // after steps 1 and 2, and at the end
  EXPECT_EQ(normalizations, 2);

  // Scoring token ids (pads allowed) from a file, at bf16.
  const fs::path pairs = dir / "pairs.jsonl";
  write_file_atomic(pairs, R"({"query_tokens": [90, 58, 122, 50259], "response_tokens": [13, 445, 50259]}
{"query_tokens": [90, 58, 122], "response_tokens": [13, 445]}
)");
  const Result scored =
      run("score --reward-model " + output.string() + " --file " + pairs.string() + " --log-level warn");
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  const auto results = nlohmann::json::parse(scored.out);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_NEAR(results[0].at("reward").get<double>(), results[1].at("reward").get<double>(), 1e-5);
  const Result bf16 = run("score --reward-model " + output.string() + " --file " + pairs.string() +
                          " --precision bf16 --log-level warn");
  ASSERT_EQ(bf16.exit_code, 0) << bf16.err;
  EXPECT_NEAR(nlohmann::json::parse(bf16.out)[0].at("reward").get<double>(), results[0].at("reward").get<double>(),
              0.1);
}

TEST_F(RewardCli, NormalisesOnAQueryDataset) {
  const fs::path labels = dir / "labels.jsonl";
  write_file_atomic(labels, text_labels(16));
  const fs::path output = dir / "rm";
  const fs::path queries = kData / "queries" / "texts.txt";
  const Result r =
      run(train_args(labels, output) + " --queries " + queries.string() +
          " --set queries.query_length=12 --set queries.suffix=' TL;DR:'" + " --set normalization.response_length=6");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto config = nlohmann::json::parse(slurp(output / "train_reward.config.json"));
  EXPECT_EQ(config.at("queries").at("query_length"), 12);
  EXPECT_EQ(config.at("normalization").at("response_length"), 6);
}

TEST_F(RewardCli, BadInputsAreNamed) {
  const fs::path labels = dir / "labels.jsonl";
  write_file_atomic(labels, text_labels(16));
  const fs::path output = dir / "rm";
  expect_error(run(train_args(dir / "missing.json", output)), "missing.json");
  expect_error(run(train_args(labels, output) + " --set training.bogus=1"), "training.bogus");
  expect_error(run(train_args(labels, output) + " --set training.lr=0"), "training.lr");
  expect_error(run(train_args(labels, output) + " --set training.adam_style=sgd"), "training.adam_style");
  expect_error(run(train_args(labels, output) + " --set training.validation_fraction=0.95"),
               "training.validation_fraction");
  expect_error(run(train_args(labels, output) + " --queries " + (kData / "queries" / "texts.txt").string() +
                   " --set queries.pad_id=0"),
               "queries.pad_id");
  // 16-id queries and 60 sampled tokens do not fit the tiny model's 64 positions.
  expect_error(
      run(train_args(kData / "reward" / "openai_books.json", output) + " --set normalization.response_length=60"),
      "normalization.response_length");
  // Ids beyond the tiny vocabulary (it has 512).
  const fs::path big = dir / "big.json";
  write_file_atomic(
      big, R"([{"query": [1, 2], "sample0": [3], "sample1": [4], "sample2": [5], "sample3": [600], "best": 0}])");
  expect_error(run(train_args(big, output)), "big.json");
  const fs::path file = dir / "a_file";
  write_file_atomic(file, "not a directory");
  expect_error(run(train_args(labels, file)), "exists and is not a directory");
  expect_error(run("train-reward --labels " + labels.string() + " -o " + output.string()), "model");
  EXPECT_FALSE(fs::exists(output));
}

TEST_F(RewardCli, ScoreBadInputs) {
  const fs::path labels = dir / "labels.jsonl";
  write_file_atomic(labels, text_labels(16));
  const fs::path output = dir / "rm";
  ASSERT_EQ(
      run(train_args(labels, output) + " --set normalization.before=false --set normalization.after=false").exit_code,
      0);
  const auto info = nlohmann::json::parse(slurp(output / "reward_model.json"));
  EXPECT_FALSE(info.contains("normalization_after"));
  expect_error(run("score --reward-model " + output.string() + " -q a -q b -r c"), "--response");
  const fs::path pairs = dir / "pairs.jsonl";
  write_file_atomic(pairs, "{\"query\": \"a\", \"response\": \"b\"}\n{\"query\": 3}\n");
  const Result r = run("score --reward-model " + output.string() + " --file " + pairs.string());
  expect_error(r, "pairs.jsonl");
  EXPECT_THAT(r.err, HasSubstr("line 2"));
  expect_error(run("score --reward-model " + output.string()), "nothing to score");
  write_file_atomic(pairs,
                    "{\"query_tokens\": [1, 2], \"response_tokens\": [3, 50259]}\n"
                    "{\"query_tokens\": [1, 2], \"response_tokens\": [3, 600]}\n");
  expect_error(run("score --reward-model " + output.string() + " --file " + pairs.string()),
               "pairs.jsonl: line 2: token id 600 is outside the vocabulary");
  write_file_atomic(
      pairs,
      nlohmann::json({{"query_tokens", std::vector<int>(60, 5)}, {"response_tokens", std::vector<int>(10, 6)}}).dump() +
          "\n");
  expect_error(run("score --reward-model " + output.string() + " --file " + pairs.string()),
               "line 1: 70 tokens, more than the model's context of 64");
}

TEST_F(RewardCli, ScoreRefusesAPlainModelDirectory) {
  expect_error(run("score --reward-model " + kTiny.string() + " -q a -r b"), "reward_model.json");
}

}  // namespace
}  // namespace rlhf::testing
