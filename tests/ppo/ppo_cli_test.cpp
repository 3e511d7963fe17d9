// `rlhf train-policy` as users run it: the paper's preset parses, a run stops after --max-batches and
// continues with --resume, and mistakes are answered by one clear line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
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

TEST_F(PpoCli, OutputHoldingARunNeedsResumeOrOverwrite) {
  const std::string base = "train-policy --config " + (dir / "tiny.json").string() + " --model " +
                           (kData / "tiny-gpt2").string() + " --queries " + (dir / "queries.txt").string() +
                           " --total-episodes 32 -o " + (dir / "run").string() + " --log-level warn";
  std::string err;
  ASSERT_EQ(run(base, &err), 0) << err;
  const std::string finished = read_text_file(dir / "run" / "checkpoint" / "policy" / "model.safetensors");
  EXPECT_EQ(run(base, &err), 1);
  EXPECT_THAT(err, HasSubstr("already holds a PPO run (checkpoint or metrics); add --resume to continue it, or "
                             "--overwrite to start again"));
  EXPECT_EQ(read_text_file(dir / "run" / "checkpoint" / "policy" / "model.safetensors"), finished);
  EXPECT_EQ(run(base + " --resume --overwrite", &err), 1);
  EXPECT_THAT(err, HasSubstr("give one of them"));
  ASSERT_EQ(run(base + " --overwrite", &err), 0) << err;
  EXPECT_EQ(lines(dir / "run" / "metrics.jsonl"), 2u);  // the old run's lines are gone, not appended to
}

// Kill -9 at many moments, some of them while a checkpoint is being written: after each kill the last
// checkpoint is complete, and resuming again and again ends with the weights of a run that was never
// interrupted, bit for bit.
TEST_F(PpoCli, KilledAtManyPointsResumesToTheWeightsOfAnUninterruptedRun) {
  const std::string base = "train-policy --config " + (dir / "tiny.json").string() + " --model " +
                           (kData / "tiny-gpt2").string() + " --queries " + (dir / "queries.txt").string() +
                           " --total-episodes 96 --log-level warn -o ";
  std::string err;
  ASSERT_EQ(run(base + (dir / "straight").string(), &err), 0) << err;

  const fs::path out = dir / "killed";
  const fs::path checkpoint = out / "checkpoint";
  auto staging_exists = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec)) {
      if (e.path().filename().string().rfind(".checkpoint.staging.", 0) == 0) return true;
    }
    return false;
  };
  int kills = 0, mid_checkpoint_kills = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 30 && !finished; ++attempt) {
    const bool resume = fs::exists(checkpoint / "state.json");
    const std::string command = std::string(RLHF_BINARY) + " " + base + out.string() + (resume ? " --resume" : "") +
                                (attempt > 0 && !resume ? " --overwrite" : "") + " 2>>" + (dir / "killed.err").string() +
                                " & echo $!";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buf[32] = {0};
    ASSERT_NE(std::fgets(buf, sizeof buf, pipe), nullptr);
    ::pclose(pipe);
    const pid_t pid = std::atoi(buf);
    // Three kinds of moment, in turn: during start-up; right after a batch's metrics line appears (so
    // often between the metrics and the checkpoint, or in the next batch); and while a checkpoint that
    // replaces an earlier one is being staged.
    const int kind = attempt % 3;
    const bool at_checkpoint = kind == 2 && fs::exists(checkpoint / "state.json");
    const std::size_t lines_before = lines(out / "metrics.jsonl");
    const auto after_line = std::chrono::milliseconds(37 * (attempt % 5));
    const auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point line_seen{};
    bool killed = false;
    while (::kill(pid, 0) == 0) {
      // A finished child is a zombie until its parent (init) reaps it: check its state.
      std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
      std::string pid_text, name, state;
      stat >> pid_text >> name >> state;
      if (state == "Z" || state.empty()) break;
      const auto now = std::chrono::steady_clock::now();
      bool due = false;
      if (kind == 0) {
        due = now - start >= std::chrono::milliseconds(250);
      } else if (at_checkpoint) {
        due = staging_exists();
      } else {
        if (line_seen == std::chrono::steady_clock::time_point{} && lines(out / "metrics.jsonl") > lines_before) {
          line_seen = now;
        }
        due = line_seen != std::chrono::steady_clock::time_point{} && now - line_seen >= after_line;
      }
      if (due) {
        ::kill(pid, SIGKILL);
        killed = true;
        break;
      }
      if (now - start > std::chrono::seconds(120)) break;
    }
    while (::kill(pid, 0) == 0) {
      std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
      std::string pid_text, name, state;
      stat >> pid_text >> name >> state;
      if (state == "Z" || state.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (killed) {
      ++kills;
      mid_checkpoint_kills += at_checkpoint;
    }
    // Whatever the moment, a checkpoint that exists is complete.
    if (fs::exists(checkpoint)) {
      const auto state = nlohmann::json::parse(read_text_file(checkpoint / "state.json"));
      EXPECT_EQ(state["format"], "rlhf-ppo-checkpoint");
      for (const char* file : {"policy/model.safetensors", "policy/config.json", "optimizer.safetensors",
                               "rng.safetensors"}) {
        EXPECT_TRUE(fs::exists(checkpoint / file)) << file << " after attempt " << attempt;
      }
    }
    finished = fs::exists(checkpoint / "state.json") &&
               nlohmann::json::parse(read_text_file(checkpoint / "state.json"))["next_batch"] == 6;
  }
  ASSERT_TRUE(finished) << read_text_file(dir / "killed.err");
  EXPECT_GE(kills, 6);
  EXPECT_GE(mid_checkpoint_kills, 2);
  EXPECT_EQ(lines(out / "metrics.jsonl"), 6u);
  for (const char* file : {"policy/model.safetensors", "optimizer.safetensors"}) {
    EXPECT_EQ(read_text_file(checkpoint / file), read_text_file(dir / "straight" / "checkpoint" / file)) << file;
  }
}

}  // namespace
}  // namespace rlhf::ppo
