// `rlhf train` end to end on the tiny GPT-2: mock labels, reward model, PPO, evaluation; killed during
// PPO and run again; and the errors that must come before any long work.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_fixture.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

// The score of the mock labeler: occurrences of token 54 ("W" in GPT-2's byte order) in the response.
constexpr int kRewardToken = 54;

class TrainCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    std::string texts;
    for (int i = 0; i < 60; ++i) texts += "The cat sat on the mat number " + std::to_string(i) + ".\n";
    write_file_atomic(dir / "queries.txt", texts);
    config = {{"runtime", {{"device", "cpu"}, {"threads", 2}, {"log_level", "info"}}},
              {"model", kTiny.string()},
              {"run_dir", (dir / "run").string()},
              {"task",
               {{"queries", {{"path", (dir / "queries.txt").string()}, {"format", "text"}, {"query_length", 12}}},
                {"response_length", 8},
                {"temperature", 1.0},
                {"truncate_token", -1}}},
              {"labels",
               {{"source", "mock"},
                {"questions", 96},
                {"labeler", {{"kind", "token_count"}, {"token", kRewardToken}}}}},
              {"reward_model",
               {{"training", {{"batch_size", 8}, {"lr", 1e-3}, {"epochs", 2}, {"validation_fraction", 0.2}}},
                {"normalization", {{"samples", 32}, {"rollout_batch_size", 32}}}}},
              {"policy",
               {{"kl", {{"kl_coef", 0.05}, {"target", 3.0}, {"horizon", 200}}},
                {"ppo", {{"lr", 2e-3}, {"batch_size", 16}, {"total_episodes", 16 * 12}, {"noptepochs", 2}}},
                {"save_interval", 1}}},
              {"eval", {{"queries", 60}, {"batch_size", 60}}}};
  }

  void write_config(const nlohmann::json& c) { write_file_atomic(dir / "train.json", c.dump(2)); }
  std::string train_command() const { return "train --config " + (dir / "train.json").string(); }

  std::size_t metric_lines() const {
    std::ifstream in(dir / "run" / "policy" / "metrics.jsonl");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
    return n;
  }

  nlohmann::json config;
};

TEST_F(TrainCli, KilledDuringPpoFinishesWithoutRedoingTheRewardModel) {
  write_config(config);
  // Started in the background, then killed with SIGKILL once PPO has written a few batches.
  const fs::path pid_file = dir / "pid";
  const std::string command = std::string(RLHF_BINARY) + " " + train_command() + " >" + (dir / "first.out").string() +
                              " 2>" + (dir / "first.err").string() + " & echo $! >" + pid_file.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const pid_t pid = std::stoi(slurp(pid_file));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (metric_lines() < 3 && std::chrono::steady_clock::now() < deadline && ::kill(pid, 0) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(metric_lines(), 3u) << slurp(dir / "first.err");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  while (::kill(pid, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(fs::exists(dir / "run" / "summary.json"));

  const fs::path reward_json = dir / "run" / "reward_model" / "reward_model.json";
  ASSERT_TRUE(fs::exists(reward_json));
  struct stat before {};
  ASSERT_EQ(::stat(reward_json.c_str(), &before), 0);
  const std::string labels = slurp(dir / "run" / "labels" / "labels.json");

  const Result second = run(train_command());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("labels: done"));
  EXPECT_THAT(second.err, HasSubstr("reward model: done"));
  EXPECT_THAT(second.err, HasSubstr("resume:"));
  struct stat after {};
  ASSERT_EQ(::stat(reward_json.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);  // the reward model was not written again
  EXPECT_EQ(before.st_mtime, after.st_mtime);
  EXPECT_EQ(labels, slurp(dir / "run" / "labels" / "labels.json"));
  EXPECT_EQ(metric_lines(), 12u);  // every batch once: the killed run's extra lines were cut on resume

  const auto summary = nlohmann::json::parse(slurp(dir / "run" / "summary.json"));
  EXPECT_EQ(summary["ppo"]["batches"], 12);
  // PPO raised what it maximises, the reward model's score (the tiny reward model learns little from
  // 96 questions about a rare token, so the labeler's own score is checked in the next test).
  const double initial = summary["initial"]["score"]["mean"];
  const double final_ = summary["final"]["score"]["mean"];
  EXPECT_GT(final_, initial + 0.25) << summary.dump(2);
  EXPECT_TRUE(summary["initial"]["scores"].contains("labeler"));
  EXPECT_NEAR(summary["initial"]["kl"]["mean"].get<double>(), 0.0, 1e-4);
  EXPECT_GT(summary["final"]["kl"]["mean"].get<double>(), 0.0);
  EXPECT_THAT(second.out, HasSubstr("| labeler score |"));
  EXPECT_TRUE(fs::exists(dir / "run" / "summary.md"));
  EXPECT_TRUE(fs::exists(dir / "run" / "train.log"));
  EXPECT_TRUE(fs::exists(dir / "run" / "policy" / "checkpoint" / "policy" / "model.safetensors"));
  // Every reward-model accuracy beside chance and the ceiling of the mock labels, per split (token 54 is
  // rare in the tiny model's samples: most questions tie at 0, so a ceiling may be as low as chance).
  const auto& rm = summary["reward_model"];
  EXPECT_DOUBLE_EQ(rm["chance"].get<double>(), 1.0 / 4);
  for (const char* split : {"train", "validation"}) {
    const double ceiling = rm[std::string(split) + "_ceiling"].get<double>();
    EXPECT_GE(ceiling, 0.25) << split;
    EXPECT_LE(ceiling, 1.0) << split;
    EXPECT_TRUE(rm.contains(std::string(split) + "_gain_share")) << split;
  }
  EXPECT_TRUE(summary["labels"]["ceiling"].is_number());
  EXPECT_THAT(slurp(dir / "run" / "train.log"), HasSubstr("reward model: validation accuracy"));
  EXPECT_THAT(slurp(dir / "run" / "summary.md"), HasSubstr("(chance 0.250, ceiling "));
  EXPECT_THAT(second.out, HasSubstr("reward model: validation accuracy"));
  EXPECT_THAT(second.out, HasSubstr(") on 19 held-out comparisons; train accuracy"));

  // A third run finds everything done and only reports.
  const Result third = run(train_command());
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_THAT(third.err, HasSubstr("policy: done"));
  EXPECT_THAT(third.out, HasSubstr("final policy"));
}

TEST_F(TrainCli, DirectLabelerRewardNeedsNoLabelsAndRaisesTheLabelerScore) {
  nlohmann::json c = config;
  c["policy"]["reward"] = "labeler";  // the paper's "direct access to the reward" baseline
  write_config(c);
  const Result r = run(train_command());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir / "run" / "labels"));
  EXPECT_FALSE(fs::exists(dir / "run" / "reward_model"));
  const auto summary = nlohmann::json::parse(slurp(dir / "run" / "summary.json"));
  EXPECT_THAT(summary["reward"].get<std::string>(), HasSubstr("labeler"));
  const double initial = summary["initial"]["score"]["mean"];  // occurrences of the token per response
  const double final_ = summary["final"]["score"]["mean"];
  EXPECT_GT(final_, initial + 0.25) << summary.dump(2);
}

TEST_F(TrainCli, EvalOfARunReproducesItsOwnEvaluationAndComparesPolicies) {
  nlohmann::json c = config;
  c["policy"]["reward"] = "labeler";
  write_config(c);
  ASSERT_EQ(run(train_command()).exit_code, 0);
  const fs::path run_dir = dir / "run";

  // Every setting from the run: the same queries, seed and scorer give the run's own numbers exactly.
  Result r = run("eval --run " + run_dir.string() + " -o " + (dir / "eval.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto result = nlohmann::json::parse(slurp(dir / "eval.json"));
  ASSERT_EQ(result["policies"].size(), 2u);
  for (const auto& [k, name] : {std::pair{0, "initial"}, std::pair{1, "final"}}) {
    const auto own = nlohmann::json::parse(slurp(run_dir / "eval" / (std::string(name) + ".json")));
    const auto& p = result["policies"][k];
    EXPECT_EQ(p["name"], name);
    EXPECT_EQ(p["score"]["mean"], own["score"]["mean"]) << name;
    EXPECT_EQ(p["kl"]["mean"], own["kl"]["mean"]) << name;
    EXPECT_EQ(p["entropy"]["mean"], own["entropy"]["mean"]) << name;
    EXPECT_EQ(p["score"]["count"], 60);
  }
  EXPECT_THAT(result["judge"].get<std::string>(), HasSubstr("token_count"));
  // The table: one row per policy, mean ± standard error.
  EXPECT_THAT(r.out, HasSubstr("judge: token_count"));
  EXPECT_THAT(r.out, ContainsRegex("initial +[0-9.]+ ± [0-9.]+ +0.00 ± 0.00"));
  EXPECT_THAT(r.out, ContainsRegex("final +[0-9.]+ ± [0-9.]+ +[0-9.]+ ± "));

  // Policies and scorer from the command line, with fewer queries; the final policy scores higher.
  r = run("eval --policy " + kTiny.string() + " --policy " + (run_dir / "policy" / "checkpoint" / "policy").string() +
          " --name before --name after --labeler token_count --set labeler.token=54 --queries " +
          (dir / "queries.txt").string() + " --set task.queries.format=text --set task.queries.query_length=12 " +
          "--set task.response_length=8 --set task.temperature=1 --set task.truncate_token=-1 -n 40 --json " +
          "--device cpu --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["queries"], 40);
  EXPECT_EQ(j["policies"][1]["name"], "after");
  EXPECT_GT(j["policies"][1]["score"]["mean"].get<double>(), j["policies"][0]["score"]["mean"].get<double>());
  EXPECT_EQ(j["policies"][0]["truncated_fraction"], 0.0);  // truncate_token -1: nothing is cut

  // Errors name what is wrong before any model is loaded.
  expect_error(run("eval --policy " + kTiny.string() + " --queries " + (dir / "queries.txt").string()),
               "reward_model: nothing to score the policies with");
  expect_error(run("eval --policy a --policy b --name one --labeler lexicon"), "names: 1 names for 2 policies");
  expect_error(run("eval --run " + dir.string()), "is not an `rlhf train` run directory (expected config.json");
}

TEST_F(TrainCli, BatchedCollectionRetrainsTheRewardModelEachRoundOnAllLabelsSoFar) {
  nlohmann::json c = config;
  c["labels"]["rounds"] = 2;
  c["labels"]["questions"] = 48;
  c["policy"]["ppo"]["total_episodes"] = 16 * 6;  // rounds of 3 PPO batches
  write_config(c);
  const Result r = run(train_command());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path run_dir = dir / "run";
  EXPECT_TRUE(fs::exists(run_dir / "labels" / "labels.json"));
  EXPECT_TRUE(fs::exists(run_dir / "labels" / "round_1.json"));
  EXPECT_TRUE(fs::exists(run_dir / "reward_model" / "reward_model.json"));
  EXPECT_TRUE(fs::exists(run_dir / "reward_model_round_1" / "reward_model.json"));
  // Round 1's reward model learned from both rounds: 96 questions.
  EXPECT_EQ(nlohmann::json::parse(slurp(run_dir / "labels" / "rounds_0-1.json")).size(), 96u);
  // Round 1's questions came from the policy after round 0's PPO, on other queries than round 0's.
  EXPECT_NE(slurp(run_dir / "labels" / "labels.json"), slurp(run_dir / "labels" / "round_1.json"));

  const auto summary = nlohmann::json::parse(slurp(run_dir / "summary.json"));
  ASSERT_EQ(summary["rounds"].size(), 2u);
  EXPECT_EQ(summary["rounds"][0]["labels"], 48);
  EXPECT_EQ(summary["rounds"][1]["labels"], 96);
  for (const auto& round : summary["rounds"]) {
    EXPECT_TRUE(round.contains("reward_model_validation_accuracy"));
    EXPECT_TRUE(round["policy"]["scores"].contains("labeler"));
  }
  EXPECT_EQ(summary["ppo"]["batches"], 6);
  EXPECT_THAT(r.out, HasSubstr("| round | labels so far |"));
  EXPECT_THAT(r.err, HasSubstr("round 1: reward model validation accuracy"));

  // policy/config.json names the reward model PPO used last: round 1's, not round 0's.
  const auto policy_config = nlohmann::json::parse(slurp(run_dir / "policy" / "config.json"));
  EXPECT_EQ(fs::path(policy_config["reward"]["model_dir"].get<std::string>()).filename(), "reward_model_round_1");

  // The run reads a reward model's training summary where train-reward writes it ("training"), and only
  // there: another key, even one named "info" with a "training" inside, changes nothing.
  const fs::path rm_file = run_dir / "reward_model_round_1" / "reward_model.json";
  nlohmann::json rm = nlohmann::json::parse(slurp(rm_file));
  rm["info"] = {{"training", {{"train_count", 1}, {"validation_count", 0}}}};
  write_file_atomic(rm_file, rm.dump(2));
  fs::remove(run_dir / "eval" / "round_1.json");
  const Result again = run(train_command());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto summary_again = nlohmann::json::parse(slurp(run_dir / "summary.json"));
  EXPECT_EQ(summary_again["rounds"][1]["labels"], 96);
  EXPECT_EQ(summary_again["reward_model"], rm["training"]);
}

TEST_F(TrainCli, PersonLabelerPausesTheRunUntilTheAnswersAreThere) {
  nlohmann::json c = config;
  c["labels"]["labeler"] = {{"kind", "person"}};
  c["labels"]["questions"] = 24;
  write_config(c);
  const Result first = run(train_command());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("waiting for a person's answers"));
  EXPECT_THAT(first.out, HasSubstr("rlhf label --model"));
  const fs::path questions = dir / "run" / "labels" / "round_0.questions.json";
  ASSERT_TRUE(fs::exists(questions));
  EXPECT_FALSE(fs::exists(dir / "run" / "labels" / "labels.json"));
  EXPECT_FALSE(fs::exists(dir / "run" / "reward_model"));

  // Asked again before anyone answered: the same questions, still waiting.
  const std::string asked = slurp(questions);
  EXPECT_THAT(run(train_command()).out, HasSubstr("waiting for a person's answers"));
  EXPECT_EQ(slurp(questions), asked);

  // The answers arrive (here from a mock standing in for the person); the run goes on to the end.
  const Result answered = run("mock-label --labeler token_count --token 54 --tokenizer " + kTiny.string() + " --in " +
                              questions.string() + " -o " + (dir / "run" / "labels" / "labels.json").string());
  ASSERT_EQ(answered.exit_code, 0) << answered.err;
  const Result second = run(train_command());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("labels: done"));
  const auto summary = nlohmann::json::parse(slurp(dir / "run" / "summary.json"));
  EXPECT_FALSE(summary["final"].contains("scores"));  // a person gives no automatic score
}

TEST_F(TrainCli, ConfigAndDatasetErrorsComeFirst) {
  // A query dataset with no usable example: no text holds the start token.
  nlohmann::json c = config;
  c["task"]["queries"]["start_text"] = "@";
  write_config(c);
  Result r = run(train_command());
  expect_error(r, "queries.txt");
  EXPECT_THAT(r.err, HasSubstr("start"));
  EXPECT_FALSE(fs::exists(dir / "run" / "labels"));

  c = config;
  c["task"]["queries"]["path"] = (dir / "missing.txt").string();
  write_config(c);
  expect_error(run(train_command()), "missing.txt");

  c = config;
  c["policy"]["ppo"]["learning_rate"] = 1e-5;
  write_config(c);
  r = run(train_command());
  expect_error(r, "policy.ppo.learning_rate");
  EXPECT_THAT(r.err, HasSubstr("lr"));  // did you mean

  c = config;
  c["labels"]["source"] = "file";
  c["labels"]["path"] = (dir / "labels.json").string();
  write_config(c);
  expect_error(run(train_command()), "labels.path: " + (dir / "labels.json").string() + ": no such file");

  c = config;
  c["task"]["response_length"] = 60;  // 12 + 60 > the tiny model's 64 positions
  write_config(c);
  expect_error(run(train_command()), "task.response_length");

  // An existing run directory holding another experiment.
  write_config(config);
  const Result partial = run(train_command() + " --max-ppo-batches 1");
  ASSERT_EQ(partial.exit_code, 0) << partial.err;
  EXPECT_THAT(partial.err, HasSubstr("run the same command again"));
  c = config;
  c["policy"]["ppo"]["lr"] = 1e-4;
  write_config(c);
  r = run(train_command());
  expect_error(r, "policy.ppo.lr: 0.002 -> 0.0001");
}

}  // namespace
}  // namespace rlhf::testing
