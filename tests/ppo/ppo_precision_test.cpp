// PPO with runtime.train_precision = bf16 on the CPU: the policy's and value head's outputs within a
// stated tolerance of fp32 on the same responses; a run whose rollout and training passes share the
// autocast, so the first batch's KL to the (identical) reference is exactly 0; weights and Adam state
// stay fp32.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rlhf/core/torch_compat.h"
#include "rlhf/ppo/trainer.h"
#include "rlhf/util/files.h"

namespace rlhf::ppo {
namespace {

namespace fs = std::filesystem;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
// Measured on LibTorch 1.13's CPU: 0.028 nats, 0.014 for the values, 0.016 for the entropy.
constexpr double kLogprobTolerance = 0.05;  // nats, per token (log-probabilities around -6)
constexpr double kValueTolerance = 0.05;    // the value head's outputs (|v| up to about 1.5 here: ~2% of it)

TEST(PpoPrecision, Bf16LogprobsAndValuesWithinToleranceOfFp32) {
  Policy policy = load_policy(kTiny);
  {
    at::NoGradGuard no_grad;  // a value head that is not zero, so the comparison means something
    at::manual_seed(2);
    policy->v_head->weight.normal_(0.0, 0.1);
  }
  at::manual_seed(3);
  const at::Tensor context = at::randint(512, {4, 10}, at::kLong);
  const at::Tensor context_mask = at::arange(10).ge(at::tensor({0, 2, 5, 0}).view({4, 1}));  // left padding
  const at::Tensor response = at::randint(512, {4, 8}, at::kLong);
  at::NoGradGuard no_grad;
  const ResponseAnalysis fp32 = policy->analyze(context, context_mask, response, 0.7, true);
  ResponseAnalysis bf16;
  {
    compat::AutocastGuard autocast(at::kCPU, at::kBFloat16);
    bf16 = policy->analyze(context, context_mask, response, 0.7, true);
  }
  ASSERT_EQ(bf16.logprobs.scalar_type(), at::kFloat);
  ASSERT_EQ(bf16.values.scalar_type(), at::kFloat);
  const double logprob_diff = (bf16.logprobs - fp32.logprobs).abs().max().item<double>();
  const double value_diff = (bf16.values - fp32.values).abs().max().item<double>();
  const double entropy_diff = (bf16.entropy - fp32.entropy).abs().max().item<double>();
  std::cout << "[ measured ] ppo bf16 vs fp32: max |logprob diff| " << logprob_diff << " nats, max |value diff| "
            << value_diff << ", max |entropy diff| " << entropy_diff << "\n";
  EXPECT_LT(logprob_diff, kLogprobTolerance);
  EXPECT_LT(value_diff, kValueTolerance) << "max |v| " << fp32.values.abs().max().item<double>();
  EXPECT_LT(entropy_diff, kLogprobTolerance);
  EXPECT_GT(logprob_diff, 0.0) << "autocast did not act: the comparison means nothing";
}

class PpoPrecisionRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_ppo_precision_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string text;
    for (const char* s : {"The cat", "A dog", "The old man", "My friend"}) {
      for (const char* o : {"sat on the mat.", "looked at a tree.", "found the house.", "liked the sun."}) {
        text += std::string(s) + " " + o + "\n";
      }
    }
    write_file_atomic(dir / "queries.txt", text);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir);
  }
  fs::path dir;
};

TEST_F(PpoPrecisionRun, Bf16RunStartsAtZeroKlAndKeepsFp32State) {
  TrainPolicyConfig c;
  c.runtime.device = "cpu";
  c.runtime.threads = 2;
  c.runtime.seed = 7;
  c.runtime.log_level = "warn";
  c.runtime.train_precision = "bf16";
  c.model = kTiny.string();
  c.output_dir = (dir / "run").string();
  c.task.queries.path = (dir / "queries.txt").string();
  c.task.queries.format = "text";
  c.task.queries.query_length = 8;
  c.task.response_length = 8;
  c.task.temperature = 1.0;
  c.task.truncate_token = -1;
  c.reward.kind = "token_count";
  c.reward.token = 54;
  c.ppo.lr = 5e-4;
  c.ppo.batch_size = 16;
  c.ppo.total_episodes = 32;
  c.ppo.nminibatches = 2;
  c.ppo.noptepochs = 2;
  c.save_interval = 0;
  c.sample_interval = 0;
  const core::Runtime rt = core::init_runtime(c.runtime);
  ASSERT_EQ(rt.train_precision, core::Precision::BF16);
  PpoTrainer trainer(c, rt, load_parts(c, rt));
  trainer.run();
  std::vector<nlohmann::json> m;
  std::ifstream in(dir / "run" / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) m.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(m.size(), 2u);
  // The rollout's policy and reference passes ran under the same autocast as each other: identical
  // weights give identical log-probabilities.
  EXPECT_EQ(m[0]["kl"].get<double>(), 0.0);
  for (const auto& record : m) {
    for (const char* key : {"policy_loss", "value_loss", "approxkl", "entropy", "kl"}) {
      EXPECT_TRUE(std::isfinite(record[key].get<double>())) << key << " in " << record.dump();
    }
    EXPECT_FALSE(record.contains("loss_scale")) << "bf16 needs no loss scaling";
  }
  EXPECT_LT(m[0]["approxkl"].get<double>(), 0.05);
  for (const auto& p : trainer.policy()->parameters()) EXPECT_EQ(p.scalar_type(), at::kFloat);
  EXPECT_FALSE(compat::autocast_enabled(at::kCPU)) << "a guard leaked its autocast state";
}

}  // namespace
}  // namespace rlhf::ppo
