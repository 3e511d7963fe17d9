// PPO end to end on the tiny GPT-2 (tests/data/tiny-gpt2) with the programmatic token-count reward:
// the score rises and the adaptive KL settles near its target; a stopped and resumed run ends with
// the same weights as one that went straight through; the guards stop deliberately broken runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "rlhf/config/config.h"
#include "rlhf/ppo/guards.h"
#include "rlhf/ppo/trainer.h"
#include "rlhf/reward/reward_model.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/files.h"

namespace rlhf::ppo {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr int kToken = 54;  // among the tiny model's most frequent samples (about 2% of tokens)

// 288 short English sentences the tiny tokenizer knows well.
void write_queries(const fs::path& path) {
  const std::vector<std::string> subjects = {"The cat",  "A dog", "The old man", "My friend",
                                             "The bird", "She",   "He",          "The child"};
  const std::vector<std::string> verbs = {"sat on", "looked at", "walked to", "found", "liked", "saw"};
  const std::vector<std::string> objects = {"the mat", "a tree", "the house", "the water", "a small box", "the sun"};
  std::string text;
  for (const auto& s : subjects) {
    for (const auto& v : verbs) {
      for (const auto& o : objects) text += s + " " + v + " " + o + ".\n";
    }
  }
  write_file_atomic(path, text);
}

std::vector<nlohmann::json> read_records(const fs::path& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

double mean_of(const std::vector<nlohmann::json>& records, std::size_t from, std::size_t to, const char* key) {
  double sum = 0;
  for (std::size_t i = from; i < to; ++i) sum += records[i][key].get<double>();
  return sum / static_cast<double>(to - from);
}

class PpoTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_ppo_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_queries(dir / "queries.txt");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir);
  }

  // A CI-sized run: 32 episodes per batch, 2 minibatches of 16 accumulated in microbatches of 8,
  // 4 epochs; 12-token queries and responses; the reward counts token 54. The KL controller reacts
  // faster than the paper's (gain n_steps / horizon = 0.16 per batch instead of 0.05).
  TrainPolicyConfig tiny_config(const fs::path& out, int batches) const {
    TrainPolicyConfig c;
    c.runtime.device = "cpu";
    c.runtime.threads = 2;
    c.runtime.seed = 7;
    c.runtime.log_level = "warn";
    c.model = kTiny.string();
    c.output_dir = out.string();
    c.task.queries.path = (dir / "queries.txt").string();
    c.task.queries.format = "text";
    c.task.queries.query_length = 12;
    c.task.response_length = 12;
    c.task.temperature = 1.0;
    c.task.truncate_token = -1;
    c.reward.kind = "token_count";
    c.reward.token = kToken;
    c.kl.kl_coef = 0.4;
    c.kl.adaptive = true;
    c.kl.target = 3.0;
    c.kl.horizon = 200;
    c.ppo.lr = 5e-4;
    c.ppo.batch_size = 32;
    c.ppo.total_episodes = 32 * batches;
    c.ppo.nminibatches = 2;
    c.ppo.noptepochs = 4;
    c.ppo.microbatch_size = 8;
    c.save_interval = 0;
    c.sample_interval = 10;
    c.num_samples = 2;
    return c;
  }

  // `hooks` (ppo/hooks.h) break the run on purpose; null = a healthy run.
  static PpoTrainer make_trainer(const TrainPolicyConfig& c, std::shared_ptr<PpoHooks> hooks = nullptr) {
    const core::Runtime rt = core::init_runtime(c.runtime);
    PpoParts parts = load_parts(c, rt);
    parts.hooks = std::move(hooks);
    return PpoTrainer(c, rt, std::move(parts));
  }

  fs::path dir;
};

TEST_F(PpoTrainerTest, ScoreRisesAndAdaptiveKlSettlesNearTarget) {
  const int batches = 80;
  const TrainPolicyConfig c = tiny_config(dir / "run", batches);
  PpoTrainer trainer = make_trainer(c);
  trainer.run();
  const auto m = read_records(dir / "run" / "metrics.jsonl");
  ASSERT_EQ(m.size(), static_cast<std::size_t>(batches));
  const double first = mean_of(m, 0, 5, "score_mean");
  const double last = mean_of(m, batches - 20, batches, "score_mean");
  EXPECT_GT(last, first + 1.0) << "mean score (token count): first 5 batches " << first << ", last 20 " << last;
  const double kl = mean_of(m, batches - 20, batches, "kl");
  EXPECT_NEAR(kl, c.kl.target, 0.3 * c.kl.target) << "mean KL over the last 20 batches";
  EXPECT_NE(trainer.kl_coef(), c.kl.kl_coef);  // the controller moved beta

  // Metrics carry everything the issue lists.
  for (const char* key :
       {"score_mean", "score_std", "kl", "kl_coef", "entropy", "policy_loss", "value_loss", "policy_clipfrac",
        "value_clipfrac", "approxkl", "explained_variance", "episodes_per_s", "tokens_per_s", "time"}) {
    EXPECT_TRUE(m.back().contains(key)) << key;
  }
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoint" / "policy" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "config.json"));
  const auto samples = read_records(dir / "run" / "samples.jsonl");
  ASSERT_EQ(samples.size(), 2u * 8u);  // batches 0, 10, ..., 70
  EXPECT_TRUE(samples[0].contains("query") && samples[0].contains("response"));
}

// Batch-for-batch equality of two metrics files, timings and memory aside.
void expect_same_metrics(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    nlohmann::json x = a[i], y = b[i];
    for (auto* r : {&x, &y}) {
      for (const char* key : {"time", "episodes_per_s", "tokens_per_s", "peak_memory"}) r->erase(key);
    }
    EXPECT_EQ(x, y) << "batch " << i;
  }
}

TEST_F(PpoTrainerTest, StoppedAndResumedRunEndsWithTheSameWeights) {
  const int batches = 6;
  TrainPolicyConfig straight = tiny_config(dir / "straight", batches);
  straight.sample_interval = 2;
  PpoTrainer a = make_trainer(straight);
  a.run();

  // The same run, stopped after batch 4 with its last checkpoint after batch 3 (metrics and samples of
  // batch 3 were written but are not in the checkpoint), then resumed by a new trainer.
  TrainPolicyConfig stopped = straight;
  stopped.output_dir = (dir / "stopped").string();
  {
    PpoTrainer b = make_trainer(stopped);
    for (int i = 0; i < 3; ++i) b.train_batch();
    b.save_checkpoint();
    b.train_batch();
  }
  PpoTrainer c = make_trainer(stopped);
  c.resume();
  EXPECT_EQ(c.next_batch(), 3);
  c.run();

  EXPECT_EQ(a.kl_coef(), c.kl_coef());
  auto pa = a.policy()->named_parameters();
  auto pc = c.policy()->named_parameters();
  ASSERT_EQ(pa.size(), pc.size());
  for (const auto& item : pa) {
    EXPECT_TRUE(item.value().equal(*pc.find(item.key()))) << item.key() << " differs";
  }
  expect_same_metrics(read_records(dir / "straight" / "metrics.jsonl"),
                      read_records(dir / "stopped" / "metrics.jsonl"));
  EXPECT_EQ(read_records(dir / "straight" / "samples.jsonl"), read_records(dir / "stopped" / "samples.jsonl"));

  // The checkpoints agree too, file for file (the policy is in Hugging Face's layout).
  for (const char* file : {"policy/model.safetensors", "policy/config.json", "optimizer.safetensors"}) {
    EXPECT_EQ(read_text_file(dir / "straight" / "checkpoint" / file),
              read_text_file(dir / "stopped" / "checkpoint" / file))
        << file;
  }
}

TEST_F(PpoTrainerTest, ResumeWithoutCheckpointSaysSo) {
  PpoTrainer t = make_trainer(tiny_config(dir / "empty", 2));
  try {
    t.resume();
    FAIL() << "resume without a checkpoint must throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no checkpoint to resume from"));
  }
}

std::string guard_message(PpoTrainer& trainer) {
  try {
    trainer.run();
  } catch (const GuardError& e) {
    return e.what();
  }
  return "";
}

// The paper's section-4.4 bug: the rewards (score and KL penalty) reach GAE negated.
class FlipRewardSign : public PpoHooks {
 public:
  void rewards(std::int64_t, at::Tensor& rewards) override { rewards = -rewards; }
};

// The policy-gradient loss negated.
class FlipLossSign : public PpoHooks {
 public:
  void losses(const MinibatchPoint&, std::int64_t, std::int64_t, PolicyLoss& policy, ValueLoss&) override {
    policy.loss = -policy.loss;
  }
};

TEST_F(PpoTrainerTest, FlippedRewardSignIsCaughtByTheIndependentRecomputation) {
  TrainPolicyConfig c = tiny_config(dir / "flip", 10);
  PpoTrainer t = make_trainer(c, std::make_shared<FlipRewardSign>());
  const std::string message = guard_message(t);
  EXPECT_THAT(message, HasSubstr("batch 0"));
  EXPECT_THAT(message, HasSubstr("reward sign is flipped"));
  EXPECT_EQ(t.next_batch(), 0);  // nothing trained
  EXPECT_FALSE(fs::exists(dir / "flip" / "checkpoint"));
}

TEST_F(PpoTrainerTest, FlippedRewardSignIsCaughtByTheTrendWhenTheRecomputationIsOff) {
  TrainPolicyConfig c = tiny_config(dir / "flip", 40);
  c.guards.check_rewards = false;
  c.save_interval = 5;
  PpoTrainer t = make_trainer(c, std::make_shared<FlipRewardSign>());
  const std::string message = guard_message(t);
  EXPECT_THAT(message, HasSubstr("the score fell"));
  EXPECT_THAT(message, HasSubstr("the KL rose"));
  EXPECT_LT(t.next_batch(), 40);  // stopped early
}

TEST_F(PpoTrainerTest, FlippedLossSignIsCaughtBeforeTheFirstUpdate) {
  TrainPolicyConfig c = tiny_config(dir / "flip", 10);
  PpoTrainer t = make_trainer(c, std::make_shared<FlipLossSign>());
  const std::string message = guard_message(t);
  EXPECT_THAT(message, HasSubstr("preflight"));
  EXPECT_THAT(message, HasSubstr("lowers the log-probabilities of high-advantage tokens"));
  EXPECT_FALSE(fs::exists(dir / "flip" / "checkpoint"));
}

TEST(PpoConfigTest, TheTestSeamsAreNoConfigurationKeys) {
  // They were guards.* keys once; a configuration that still sets one is refused, naming it.
  for (const char* key : {"flip_reward_sign", "flip_loss_sign", "inject_fault", "inject_batch", "inject_value"}) {
    TrainPolicyConfig c;
    try {
      config::apply_json(c, nlohmann::json{{"guards", {{key, nullptr}}}}, "old.json");
      ADD_FAILURE() << key << " was accepted";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("old.json: unknown key 'guards." + std::string(key) + "'"));
    }
  }
}

TEST_F(PpoTrainerTest, CorrectRunPassesEveryGuard) {
  // The guards on their defaults do not fire on a healthy run (the first test covers 80 batches with
  // the trend window; this one checks the preflight ran and passed).
  PpoTrainer t = make_trainer(tiny_config(dir / "ok", 2));
  EXPECT_NO_THROW(t.run());
  EXPECT_EQ(t.next_batch(), 2);
}

class NanReward : public RewardFunction {
 public:
  at::Tensor score(const at::Tensor& query, const at::Tensor& response) override {
    at::Tensor s = at::zeros({query.size(0)});
    s[1] = std::numeric_limits<float>::quiet_NaN();
    return s;
  }
  std::string name() const override { return "nan"; }
};

TEST_F(PpoTrainerTest, NanScoreStopsTheRunBeforeAnyCheckpoint) {
  const TrainPolicyConfig c = tiny_config(dir / "nan", 3);
  const core::Runtime rt = core::init_runtime(c.runtime);
  PpoParts parts = load_parts(c, rt);
  parts.reward = std::make_unique<NanReward>();
  PpoTrainer t(c, rt, std::move(parts));
  try {
    t.run();
    FAIL() << "a NaN score must stop the run";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("NaN or Inf"));
    EXPECT_THAT(e.what(), HasSubstr("reward function nan"));
  }
  EXPECT_FALSE(fs::exists(dir / "nan" / "checkpoint"));
}

TEST_F(PpoTrainerTest, DivergingLossStopsTheRunBeforeAnyCheckpoint) {
  TrainPolicyConfig c = tiny_config(dir / "inf", 4);
  c.ppo.lr = 1e30;  // the first Adam step sends the weights to infinity
  c.guards.preflight = false;
  PpoTrainer t = make_trainer(c);
  try {
    t.run();
    FAIL() << "a NaN loss must stop the run";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("stopped before anything was saved"));
  }
  EXPECT_FALSE(fs::exists(dir / "inf" / "checkpoint"));
}

// A NaN written, in PPO batch `batch`, into one of the four places a NaN or Inf can enter: the policy's
// log-probabilities (as non-finite logits give), the score, the first loss of the batch or its first
// gradient.
class InjectFault : public PpoHooks {
 public:
  InjectFault(std::string place, std::int64_t batch) : place_(std::move(place)), batch_(batch) {}
  void rollout(std::int64_t batch, Rollout& rollout) override {
    if (batch != batch_) return;
    if (place_ == "logits") rollout.logprobs.select(0, 0).select(0, 0).fill_(kNan);
    if (place_ == "reward") rollout.score.select(0, 0).fill_(kNan);
  }
  void losses(const MinibatchPoint& at, std::int64_t start, std::int64_t, PolicyLoss& policy, ValueLoss&) override {
    if (place_ == "loss" && first(at) && start == 0) policy.loss = policy.loss + kNan;
  }
  void gradient(const MinibatchPoint& at, const std::vector<std::pair<std::string, at::Tensor>>& params) override {
    if (place_ != "gradient" || !first(at)) return;
    at::NoGradGuard no_grad;
    const at::Tensor& p = params.front().second;
    if (p.grad().defined()) p.grad().view({-1}).select(0, 0).fill_(kNan);
  }

 private:
  static constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
  bool first(const MinibatchPoint& at) const { return at.batch == batch_ && at.epoch == 0 && at.minibatch == 0; }
  std::string place_;
  std::int64_t batch_;
};

// Faults injected into each place a NaN or Inf can enter a PPO batch, in a short run checkpointed after
// every batch: "stop" names the place and leaves the previous checkpoint whole and finite, and the run
// resumes from it; "skip" finishes the run with the fault counted in the metrics.
class PpoFaultTest : public PpoTrainerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  TrainPolicyConfig fault_config(const fs::path& out, const std::string& on_nonfinite) const {
    TrainPolicyConfig c = tiny_config(out, 3);
    c.ppo.batch_size = 16;
    c.ppo.total_episodes = 16 * 3;
    c.ppo.noptepochs = 1;
    c.ppo.microbatch_size = 0;
    c.save_interval = 1;
    c.guards.on_nonfinite = on_nonfinite;
    return c;
  }
  std::shared_ptr<PpoHooks> fault() const { return std::make_shared<InjectFault>(GetParam(), 1); }
};

std::string expected_words(const std::string& fault) {
  if (fault == "logits") return "batch 1: the policy's log-probabilities (its logits are not finite) holds NaN or Inf";
  if (fault == "reward") return "batch 1: the score (reward function token_count";
  if (fault == "loss") return "batch 1, epoch 0, minibatch 0: the loss is nan";
  return "batch 1, epoch 0, minibatch 0: the gradient holds NaN or Inf";
}

TEST_P(PpoFaultTest, StopNamesTheFaultAndKeepsTheLastCheckpointResumable) {
  const fs::path out = dir / "stop";
  TrainPolicyConfig c = fault_config(out, "stop");
  {
    PpoTrainer t = make_trainer(c, fault());
    try {
      t.run();
      FAIL() << "the injected fault must stop the run";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(expected_words(GetParam())));
      EXPECT_THAT(e.what(), HasSubstr("stopped before anything was saved"));
    }
  }
  // The checkpoint is the one after batch 0, and holds finite weights only.
  const auto state = nlohmann::json::parse(read_text_file(out / "checkpoint" / "state.json"));
  EXPECT_EQ(state["next_batch"], 1);
  EXPECT_EQ(read_records(out / "metrics.jsonl").size(), 1u);
  PpoTrainer resumed = make_trainer(c);  // no fault this time
  resumed.resume();  // loads the weights, which check_finite_parameters would refuse if damaged
  resumed.run();
  EXPECT_EQ(resumed.next_batch(), 3);
  EXPECT_EQ(read_records(out / "metrics.jsonl").size(), 3u);
}

TEST_P(PpoFaultTest, SkipCountsTheFaultAndFinishesTheRun) {
  const fs::path out = dir / "skip";
  PpoTrainer t = make_trainer(fault_config(out, "skip"), fault());
  t.run();
  EXPECT_EQ(t.next_batch(), 3);
  const auto records = read_records(out / "metrics.jsonl");
  ASSERT_EQ(records.size(), 3u);
  const bool whole_batch = GetParam() == "logits" || GetParam() == "reward";
  if (whole_batch) {
    EXPECT_THAT(records[1]["skipped"].get<std::string>(), HasSubstr(expected_words(GetParam())));
    EXPECT_EQ(records[2]["skips"]["batches"], 1);
    EXPECT_EQ(records[2]["skips"]["minibatches"], 0);
  } else {
    EXPECT_FALSE(records[1].contains("skipped"));
    EXPECT_EQ(records[1]["skipped_minibatches"], 1);  // the other minibatch still trained
    EXPECT_EQ(records[2]["skips"]["minibatches"], 1);
    EXPECT_EQ(records[2]["skips"]["batches"], 0);
  }
  for (const auto& r : records) EXPECT_EQ(r["batch"], &r - &records[0]);
  const auto state = nlohmann::json::parse(read_text_file(out / "checkpoint" / "state.json"));
  EXPECT_EQ(state["skips"]["batches"].get<int>() + state["skips"]["minibatches"].get<int>(), 1);
}

INSTANTIATE_TEST_SUITE_P(EveryPlace, PpoFaultTest, ::testing::Values("logits", "reward", "loss", "gradient"));

TEST_F(PpoTrainerTest, SkippingStopsAfterMaxSkipsWhenEveryBatchIsBroken) {
  TrainPolicyConfig c = tiny_config(dir / "broken", 6);
  c.ppo.lr = 1e30;  // the first Adam step sends the weights to infinity: every later batch is bad
  c.guards.preflight = false;
  c.guards.on_nonfinite = "skip";
  c.guards.max_skips = 2;
  PpoTrainer t = make_trainer(c);
  try {
    t.run();
    FAIL() << "a broken run must stop after max_skips";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("3 batches or minibatches skipped for NaN or Inf, more than guards.max_skips = 2"));
  }
  EXPECT_FALSE(fs::exists(dir / "broken" / "checkpoint"));  // save_interval 0: only the end saves
}

TEST_F(PpoTrainerTest, TrainsAgainstARewardModelDirectoryInBf16) {
  // A reward model as `rlhf train-reward` writes it (head at its initialization), scored through the
  // RewardFunction adapter: the same values as the model itself, then two PPO batches with the
  // reference and the reward model in bf16.
  at::manual_seed(3);
  reward::RewardModel rm = reward::make_reward_model(kTiny);
  const auto tokenizer = tokenizer::load_tokenizer(kTiny);
  reward::save_reward_model(*rm, dir / "rm", *tokenizer, {{"pad_id", 50259}});

  core::Runtime runtime;
  RewardOptions options;
  options.kind = "model";
  options.model_dir = (dir / "rm").string();
  const auto function = make_reward_function(options, runtime, 50259);
  const at::Tensor query = at::randint(500, {5, 6}, at::kLong).masked_fill(at::arange(6).ge(4), 50259);
  const at::Tensor response = at::randint(500, {5, 4}, at::kLong);
  at::Tensor expected;
  {
    at::NoGradGuard no_grad;
    expected = rm->score(query, response, 50259);
  }
  EXPECT_TRUE(at::allclose(function->score(query, response), expected, 1e-5, 1e-5));

  TrainPolicyConfig c = tiny_config(dir / "run", 2);
  c.reward.kind = "model";
  c.reward.model_dir = (dir / "rm").string();
  c.runtime.precision = "bf16";
  PpoTrainer t = make_trainer(c);
  ASSERT_NO_THROW(t.run());
  const auto m = read_records(dir / "run" / "metrics.jsonl");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(std::isfinite(m[1]["score_mean"].get<double>()));
  EXPECT_GT(m[0]["score_std"].get<double>(), 0.0);  // the reward model really scored the responses
}

}  // namespace
}  // namespace rlhf::ppo
