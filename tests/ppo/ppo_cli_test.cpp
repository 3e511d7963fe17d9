// `rlhf train-policy` as users run it: the paper's preset parses, a run stops after --max-batches and
// continues with --resume, and mistakes are answered by one clear line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rlhf/config/config.h"
#include "rlhf/ppo/config.h"
#include "rlhf/util/files.h"

namespace rlhf::ppo {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kData = RLHF_TEST_DATA;
const fs::path kConfigs = kData.parent_path().parent_path() / "configs";

TEST(PpoConfig, SentimentPresetHasThePapersValues) {
  TrainPolicyConfig c;
  config::read_config_file(c, kConfigs / "ppo-sentiment.json");
  c.reward.model_dir = "rm";  // given on the command line
  EXPECT_NO_THROW(config::validate_config(c));
  EXPECT_EQ(c.task.queries.query_length, 64);
  EXPECT_EQ(c.task.response_length, 24);
  EXPECT_EQ(c.task.temperature, 0.7);
  EXPECT_EQ(c.task.truncate_token, 13);
  EXPECT_EQ(c.task.truncate_after, 16);
  EXPECT_EQ(c.ppo.lr, 1e-5);
  EXPECT_EQ(c.ppo.batch_size, 512);
  EXPECT_EQ(c.ppo.num_batches(), 1954);
  EXPECT_EQ(c.ppo.noptepochs, 4);
  EXPECT_EQ(c.ppo.vf_coef, 0.1);
  EXPECT_EQ(c.ppo.lam, 0.95);
  EXPECT_EQ(c.kl.kl_coef, 0.15);
  EXPECT_EQ(c.kl.target, 6.0);
  EXPECT_EQ(c.kl.horizon, 10000.0);
  EXPECT_TRUE(c.ppo.adam_tf_epsilon);
  EXPECT_EQ(c.ppo.adam_eps, 1e-5);
}

TEST(PpoConfig, RejectsBatchShapesThatDoNotDivide) {
  TrainPolicyConfig c;
  c.reward.model_dir = "rm";
  c.ppo.nminibatches = 3;
  EXPECT_THROW(config::validate_config(c), Error);
  c.ppo.nminibatches = 1;
  c.ppo.microbatch_size = 100;
  EXPECT_THROW(config::validate_config(c), Error);
  c.ppo.microbatch_size = 64;
  EXPECT_NO_THROW(config::validate_config(c));
}

class PpoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_ppo_cli_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string texts;
    for (int i = 0; i < 40; ++i) texts += "The cat sat on the mat number " + std::to_string(i) + ".\n";
    write_file_atomic(dir / "queries.txt", texts);
    const nlohmann::json config = {{"runtime", {{"device", "cpu"}, {"threads", 2}}},
                                   {"task",
                                    {{"queries", {{"format", "text"}, {"query_length", 12}}},
                                     {"response_length", 8},
                                     {"temperature", 1.0},
                                     {"truncate_token", 13},
                                     {"truncate_after", 2}}},
                                   {"reward", {{"kind", "token_count"}, {"token", 54}}},
                                   {"kl", {{"kl_coef", 0.1}, {"target", 3.0}, {"horizon", 200}}},
                                   {"ppo", {{"lr", 5e-4}, {"batch_size", 16}, {"nminibatches", 2}, {"noptepochs", 2}}},
                                   {"save_interval", 1}};
    write_file_atomic(dir / "tiny.json", config.dump(2));
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir);
  }

  int run(const std::string& args, std::string* err = nullptr) {
    const std::string command = std::string(RLHF_BINARY) + " " + args + " 2>" + (dir / "stderr").string();
    const int status = std::system(command.c_str());
    if (err != nullptr) *err = read_text_file(dir / "stderr");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::size_t lines(const fs::path& path) {
    std::ifstream in(path);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  fs::path dir;
};

TEST_F(PpoCli, StopsAfterMaxBatchesAndResumes) {
  const std::string base = "train-policy --config " + (dir / "tiny.json").string() + " --model " +
                           (kData / "tiny-gpt2").string() + " --queries " + (dir / "queries.txt").string() +
                           " --total-episodes 64 -o " + (dir / "run").string() + " --log-level warn";
  std::string err;
  ASSERT_EQ(run(base + " --max-batches 2", &err), 0) << err;
  EXPECT_EQ(lines(dir / "run" / "metrics.jsonl"), 2u);
  const auto state = nlohmann::json::parse(read_text_file(dir / "run" / "checkpoint" / "state.json"));
  EXPECT_EQ(state["next_batch"], 2);
  EXPECT_EQ(state["format"], "rlhf-ppo-checkpoint");

  ASSERT_EQ(run(base + " --resume", &err), 0) << err;
  EXPECT_EQ(lines(dir / "run" / "metrics.jsonl"), 4u);
  EXPECT_EQ(nlohmann::json::parse(read_text_file(dir / "run" / "checkpoint" / "state.json"))["next_batch"], 4);
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoint" / "policy" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "config.json"));

  // The policy is a model directory the other subcommands read.
  ASSERT_EQ(run("generate --model " + (dir / "run" / "checkpoint" / "policy").string() +
                    " -p 'The cat' -n 4 --log-level warn >/dev/null",
                &err),
            0)
      << err;
}

TEST_F(PpoCli, ResumeWithoutCheckpointAndMissingRewardModelAreClearErrors) {
  std::string err;
  const std::string model =
      " --model " + (kData / "tiny-gpt2").string() + " --queries " + (dir / "queries.txt").string();
  EXPECT_EQ(run("train-policy --config " + (dir / "tiny.json").string() + model + " -o " + (dir / "none").string() +
                    " --resume",
                &err),
            1);
  EXPECT_THAT(err, HasSubstr("no checkpoint to resume from"));
  EXPECT_EQ(run("train-policy" + model + " -o " + (dir / "rm").string(), &err), 1);
  EXPECT_THAT(err, HasSubstr("reward.model_dir"));
}

}  // namespace
}  // namespace rlhf::ppo
