// The configuration of `rlhf train-policy`: one struct per concern, each default the paper's books
// value (paper-spec 2.1 and 2.3; configs/ppo-sentiment.json spells them all out).
#pragma once

#include <cstdint>
#include <string>

#include "rlhf/config/constraints.h"
#include "rlhf/core/runtime.h"
#include "rlhf/data/queries.h"
#include "rlhf/ppo/kl_controller.h"
#include "rlhf/ppo/reward_function.h"

namespace rlhf::ppo {

// The rollout task: which queries, how long the responses, and the truncation rule.
struct TaskOptions {
  data::QueryOptions queries;        // query texts and their processing (padding id included)
  int response_length = 24;          // tokens sampled per query, always all of them (books 24, tldr 75)
  double temperature = 0.7;          // sampling and log-prob temperature (books 0.7, cnndm 0.5)
  int truncate_token = 13;           // "." (books); 198 "\n" (summarization); -1 = no truncation/penalty
  int truncate_after = 16;           // first truncate token at index >= this (books 16, summarization 55)
  double penalty_reward_value = -1;  // the score of a response without a truncate token

  template <class V>
  void visit(V& v) {
    v.section("queries", queries, "Query dataset");
    v.field("response_length", response_length, "Tokens sampled per query (no stop at end-of-text)",
            config::Range::at_least(1));
    v.field("temperature", temperature, "Logits are divided by it for sampling and log-probabilities",
            config::Range::greater_than(0.0));
    v.field("truncate_token", truncate_token, "Responses are cut after this token; -1 = no truncation and no penalty",
            config::Range::at_least(-1));
    v.field("truncate_after", truncate_after, "Only a truncate token at this 0-based index or later counts",
            config::Range::at_least(0));
    v.field("penalty_reward_value", penalty_reward_value, "Score of a response without a truncate token");
  }
};

// PPO hyperparameters (OpenAI's PpoHParams plus what one process needs to fit the paper's batch).
struct PpoOptions {
  double lr = 1e-5;                       // Adam learning rate, decayed linearly to 0 over the PPO batches
  int batch_size = 512;                   // episodes per PPO batch
  std::int64_t total_episodes = 1000000;  // PPO batches = ceil(total_episodes / batch_size)
  int nminibatches = 1;                   // Adam steps per epoch
  int noptepochs = 4;                     // epochs over each batch, a fresh permutation each
  int microbatch_size = 0;                // gradient accumulation chunk; 0 = the whole minibatch
  double vf_coef = 0.1;                   // weight of the value loss
  double cliprange = 0.2;                 // policy ratio clip
  double cliprange_value = 0.2;           // value clip around the rollout's values
  double gamma = 1.0;                     // discount
  double lam = 0.95;                      // GAE lambda
  bool whiten_rewards = true;             // books true, summarization false
  double ent_coef = 0.0;                  // entropy bonus; the paper has none
  double max_grad_norm = 0.0;             // global gradient-norm clipping; 0 = off (the paper)
  double adam_eps = 1e-5;                 // Adam epsilon
  bool adam_tf_epsilon = true;            // TensorFlow's epsilon (added to sqrt(v) unscaled); false = PyTorch's
  double adam_beta1 = 0.9;                // Adam beta1
  double adam_beta2 = 0.999;              // Adam beta2
  int rollout_batch_size = 0;             // queries sampled together; 0 = the whole PPO batch
  int forward_batch_size = 64;            // rows per no-grad forward (policy, reference)

  template <class V>
  void visit(V& v) {
    v.field("lr", lr, "Adam learning rate (books 1e-5, summarization 2e-6), decayed linearly to 0 over PPO batches",
            config::Range::greater_than(0.0));
    v.field("batch_size", batch_size, "Episodes per PPO batch (books 512, summarization 32)",
            config::Range::at_least(1));
    v.field("total_episodes", total_episodes, "Episodes in the whole run", config::Range::at_least(1));
    v.field("nminibatches", nminibatches, "Minibatches (Adam steps) per epoch", config::Range::at_least(1));
    v.field("noptepochs", noptepochs, "Epochs over each PPO batch", config::Range::at_least(1));
    v.field("microbatch_size", microbatch_size,
            "Rows per forward/backward when accumulating a minibatch's gradient; 0 = the whole minibatch",
            config::Range::at_least(0));
    v.field("vf_coef", vf_coef, "Weight of the value loss", config::Range::at_least(0.0));
    v.field("cliprange", cliprange, "Policy ratio clip", config::Range::greater_than(0.0));
    v.field("cliprange_value", cliprange_value, "Value prediction clip around the rollout's values",
            config::Range::greater_than(0.0));
    v.field("gamma", gamma, "Discount", config::Range::between(0.0, 1.0));
    v.field("lam", lam, "GAE lambda", config::Range::between(0.0, 1.0));
    v.field("whiten_rewards", whiten_rewards, "Scale rewards to unit variance (no mean shift) per minibatch");
    v.field("ent_coef", ent_coef, "Entropy bonus weight; 0 = none (the paper)", config::Range::at_least(0.0));
    v.field("max_grad_norm", max_grad_norm, "Clip the global gradient norm; 0 = off (the paper)",
            config::Range::at_least(0.0));
    v.field("adam_eps", adam_eps, "Adam epsilon", config::Range::greater_than(0.0));
    v.field("adam_tf_epsilon", adam_tf_epsilon,
            "TensorFlow's Adam epsilon (the paper's); false = PyTorch's formulation");
    v.field("adam_beta1", adam_beta1, "Adam beta1", config::Range::between(0.0, 1.0));
    v.field("adam_beta2", adam_beta2, "Adam beta2", config::Range::between(0.0, 1.0));
    v.field("rollout_batch_size", rollout_batch_size, "Queries sampled together; 0 = the whole PPO batch",
            config::Range::at_least(0));
    v.field("forward_batch_size", forward_batch_size, "Rows per no-gradient forward pass (policy, reference)",
            config::Range::at_least(1));
  }

  std::int64_t minibatch_size() const { return batch_size / nminibatches; }
  std::int64_t num_batches() const { return (total_episodes + batch_size - 1) / batch_size; }
  void check() const;
};

// Guards against a run that optimizes the wrong thing (docs/ppo.md). Tests break runs on purpose
// through ppo/hooks.h, never through this configuration.
struct GuardOptions {
  bool preflight = true;          // before the first update: the update direction must raise sum(A * logp)
  bool check_rewards = true;      // every batch: rewards reaching GAE equal score - beta * KL, recomputed apart
  int trend_window = 10;          // stop when over this many batches the score falls and the KL rises; 0 = off
  double trend_t = 3.0;           // ... each with a least-squares slope t-statistic beyond this
  // A NaN or Inf in the rollout (log-probabilities, score) or in a minibatch's loss or gradient:
  // "stop" ends the run with a message naming it (the last checkpoint stays as it was); "skip" drops
  // that batch (rollout) or that minibatch's update (loss, gradient), counts it in the metrics and goes on.
  std::string on_nonfinite = "stop";
  int max_skips = 10;  // skip: the run stops anyway after this many skips in total

  template <class V>
  void visit(V& v) {
    v.field("preflight", preflight, "Check before the first update that the step raises the objective");
    v.field("check_rewards", check_rewards, "Recompute score - beta * KL independently every batch");
    v.field("trend_window", trend_window, "Batches over which a falling score with rising KL stops the run; 0 = off",
            config::Range::at_least(0));
    v.field("trend_t", trend_t, "t-statistic both slopes must exceed to stop the run",
            config::Range::greater_than(0.0));
    v.field("on_nonfinite", on_nonfinite,
            "NaN or Inf in the rollout, a loss or a gradient: stop (name it and end the run) or skip (drop that batch "
            "or minibatch update, count it in the metrics, go on)",
            config::OneOf{{"stop", "skip"}});
    v.field("max_skips", max_skips, "on_nonfinite = skip: stop the run after this many skips in total; 0 = never",
            config::Range::at_least(0));
  }
};

struct TrainPolicyConfig {
  core::RuntimeConfig runtime;
  std::string model;       // initial policy and reference policy (Hugging Face GPT-2 directory)
  std::string output_dir;  // metrics.jsonl, samples.jsonl, config.json, checkpoint/
  TaskOptions task;
  RewardOptions reward;
  KlOptions kl;
  PpoOptions ppo;
  GuardOptions guards;
  int save_interval = 50;    // checkpoint every this many PPO batches (and at the end); 0 = only at the end
  int sample_interval = 10;  // write sample texts every this many PPO batches; 0 = never
  int num_samples = 4;       // texts written each time

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision of the reference and reward model");
    v.field("model", model, "Initial policy and reference policy: a GPT-2 directory");
    v.field("output_dir", output_dir, "Run directory: metrics.jsonl, samples.jsonl, config.json, checkpoint/");
    v.section("task", task, "Queries, responses, truncation");
    v.section("reward", reward, "What the policy maximizes");
    v.section("kl", kl, "KL coefficient");
    v.section("ppo", ppo, "PPO hyperparameters");
    v.section("guards", guards, "Checks that stop a run optimizing the wrong thing");
    v.field("save_interval", save_interval, "Checkpoint every this many PPO batches (and at the end); 0 = end only",
            config::Range::at_least(0));
    v.field("sample_interval", sample_interval, "Write sample texts every this many PPO batches; 0 = never",
            config::Range::at_least(0));
    v.field("num_samples", num_samples, "Sample texts written each time", config::Range::at_least(0));
  }
  void check() const;
};

}  // namespace rlhf::ppo
