// The paper's task configurations in configs/ load as `rlhf train` configurations and carry the values
// of OpenAI's released code (paper-spec section 2).
#include <gtest/gtest.h>

#include <filesystem>

#include "rlhf/config/config.h"
#include "rlhf/pipeline/train.h"

namespace rlhf::pipeline {
namespace {

namespace fs = std::filesystem;
const fs::path kConfigs = fs::path(RLHF_TEST_DATA) / ".." / ".." / "configs";

TrainConfig load(const std::string& name) {
  TrainConfig c;
  config::read_config_file(c, kConfigs / name);
  config::validate_config(c);
  return c;
}

// What every task shares: the reward model's normalisation and optimiser, PPO's defaults.
void expect_common(const TrainConfig& c) {
  EXPECT_EQ(c.runtime.seed, 1);
  EXPECT_EQ(c.task.queries.pad_id, 50259);
  EXPECT_EQ(c.task.queries.padding, "right");
  EXPECT_TRUE(c.task.queries.shuffle);
  EXPECT_EQ(c.task.queries.shuffle_seed, 0u);
  EXPECT_DOUBLE_EQ(c.task.penalty_reward_value, -1.0);
  EXPECT_EQ(c.labels.source, "file");
  EXPECT_EQ(c.labels.options.format, "openai");
  EXPECT_EQ(c.labels.options.pad_id, 50259);
  EXPECT_EQ(c.reward_model.training.epochs, 1);
  EXPECT_EQ(c.reward_model.training.adam_style, "tensorflow");
  EXPECT_DOUBLE_EQ(c.reward_model.training.adam_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.reward_model.training.validation_fraction, 0.0);
  EXPECT_TRUE(c.reward_model.normalization.before);
  EXPECT_TRUE(c.reward_model.normalization.after);
  EXPECT_EQ(c.policy.reward, "reward_model");
  const auto& p = c.policy.ppo;
  EXPECT_EQ(p.total_episodes, 1000000);
  EXPECT_EQ(p.nminibatches, 1);
  EXPECT_EQ(p.noptepochs, 4);
  EXPECT_DOUBLE_EQ(p.vf_coef, 0.1);
  EXPECT_DOUBLE_EQ(p.cliprange, 0.2);
  EXPECT_DOUBLE_EQ(p.cliprange_value, 0.2);
  EXPECT_DOUBLE_EQ(p.gamma, 1.0);
  EXPECT_DOUBLE_EQ(p.lam, 0.95);
  EXPECT_DOUBLE_EQ(p.ent_coef, 0.0);
  EXPECT_DOUBLE_EQ(p.max_grad_norm, 0.0);
  EXPECT_DOUBLE_EQ(p.adam_eps, 1e-5);
  EXPECT_TRUE(p.adam_tf_epsilon);
  EXPECT_DOUBLE_EQ(p.adam_beta1, 0.9);
  EXPECT_DOUBLE_EQ(p.adam_beta2, 0.999);
  EXPECT_EQ(c.policy.save_interval, 50);
}

void expect_books(const TrainConfig& c, const std::string& task) {
  expect_common(c);
  const auto& q = c.task.queries;
  EXPECT_EQ(q.format, "books");
  EXPECT_EQ(q.query_length, 64);
  EXPECT_EQ(q.start_text, ".");
  EXPECT_EQ(q.end_text, ".");
  EXPECT_EQ(q.prefix, "");
  EXPECT_EQ(q.suffix, "");
  EXPECT_EQ(c.task.response_length, 24);
  EXPECT_DOUBLE_EQ(c.task.temperature, 0.7);
  EXPECT_EQ(c.task.truncate_token, 13);
  EXPECT_EQ(c.task.truncate_after, 16);
  EXPECT_EQ(c.labels.path, "data/labels/" + task + "/offline_5k.json");
  EXPECT_EQ(c.labels.options.limit, 4992u);
  EXPECT_EQ(c.reward_model.training.batch_size, 32);
  EXPECT_DOUBLE_EQ(c.reward_model.training.lr, 5e-5);
  EXPECT_EQ(c.reward_model.normalization.samples, 512);  // 1 rollout batch of 64 on each of 8 ranks
  EXPECT_DOUBLE_EQ(c.policy.kl.kl_coef, 0.15);
  EXPECT_TRUE(c.policy.kl.adaptive);
  EXPECT_DOUBLE_EQ(c.policy.kl.target, 6.0);
  EXPECT_DOUBLE_EQ(c.policy.kl.horizon, 10000.0);
  EXPECT_DOUBLE_EQ(c.policy.ppo.lr, 1e-5);
  EXPECT_EQ(c.policy.ppo.batch_size, 512);
  EXPECT_EQ(c.policy.ppo.num_batches(), 1954);
  EXPECT_TRUE(c.policy.ppo.whiten_rewards);
}

void expect_summarization(const TrainConfig& c, const std::string& task) {
  expect_common(c);
  EXPECT_EQ(c.task.queries.query_length, 500);
  EXPECT_EQ(c.task.queries.start_text, "");
  EXPECT_EQ(c.task.queries.suffix, "\n\nTL;DR:");
  EXPECT_EQ(c.task.response_length, 75);
  EXPECT_EQ(c.task.truncate_token, 198);
  EXPECT_EQ(c.task.truncate_after, 55);
  EXPECT_EQ(c.labels.path, "data/labels/" + task + "/online_45k.json");
  EXPECT_EQ(c.labels.options.limit, 46000u);
  EXPECT_EQ(c.reward_model.training.batch_size, 16);
  EXPECT_DOUBLE_EQ(c.reward_model.training.lr, 2.5e-5);
  EXPECT_EQ(c.reward_model.normalization.samples, 256);
  EXPECT_FALSE(c.policy.kl.adaptive);
  EXPECT_DOUBLE_EQ(c.policy.ppo.lr, 2e-6);
  EXPECT_EQ(c.policy.ppo.batch_size, 32);
  EXPECT_EQ(c.policy.ppo.num_batches(), 31250);
  EXPECT_FALSE(c.policy.ppo.whiten_rewards);
}

TEST(TaskConfigs, Sentiment) { expect_books(load("sentiment.json"), "sentiment"); }

TEST(TaskConfigs, Descriptiveness) { expect_books(load("descriptiveness.json"), "descriptiveness"); }

TEST(TaskConfigs, Tldr) {
  const TrainConfig c = load("tldr.json");
  expect_summarization(c, "tldr");
  EXPECT_EQ(c.task.queries.format, "json");
  EXPECT_EQ(c.task.queries.field, "content");
  EXPECT_TRUE(c.task.queries.clean_text);
  EXPECT_EQ(c.task.queries.end_text, "");
  EXPECT_EQ(c.task.queries.prefix, "");
  EXPECT_DOUBLE_EQ(c.task.temperature, 0.7);
  EXPECT_DOUBLE_EQ(c.policy.kl.kl_coef, 0.03);
}

TEST(TaskConfigs, CnnDailyMail) {
  const TrainConfig c = load("cnndm.json");
  expect_summarization(c, "cnndm");
  EXPECT_EQ(c.task.queries.format, "cnndm");
  EXPECT_EQ(c.task.queries.end_text, "\n");
  EXPECT_EQ(c.task.queries.prefix, "Article:\n\n");
  EXPECT_DOUBLE_EQ(c.task.temperature, 0.5);
  EXPECT_DOUBLE_EQ(c.policy.kl.kl_coef, 0.01);
}

}  // namespace
}  // namespace rlhf::pipeline
