// Synthetic run directories in the real formats, for the tests of `rlhf report`: the configurations
// are the real structs saved the way the commands save them, the evaluations are PolicyEvaluation's
// own JSON, and the metrics lines carry the keys the PPO trainer and reward training write.
#pragma once

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "rlhf/config/config.h"
#include "rlhf/eval/policy_eval.h"
#include "rlhf/pipeline/train.h"
#include "rlhf/ppo/config.h"
#include "rlhf/reward/run.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {

namespace fs = std::filesystem;

// A text that must come out escaped.
inline const std::string kNastySample = "<script>alert('x')</script> & \"quoted\"";

struct SyntheticRun {
  int batch_size = 8;
  int total_batches = 4;
  int batches_done = 4;  // < total_batches: PPO still running
  int rounds = 1;
  bool eval = true;  // eval/initial.json, final.json (and round_R.json)
  bool summary = true;
};

inline void write_lines(const fs::path& path, const std::vector<nlohmann::ordered_json>& records,
                        const std::string& tail = "") {
  std::string text;
  for (const auto& r : records) text += r.dump() + "\n";
  fs::create_directories(path.parent_path());
  write_file_atomic(path, text + tail);
}

// Batch k: score 0.5 k with std 2 (stderr 2 / sqrt(batch_size)), KL k, beta 0.1 + 0.01 k.
inline void write_ppo_metrics(const fs::path& path, const SyntheticRun& s, const std::string& tail = "") {
  std::vector<nlohmann::ordered_json> lines;
  for (int k = 0; k < s.batches_done; ++k) {
    lines.push_back({{"batch", k},
                     {"episodes", (k + 1) * s.batch_size},
                     {"lr", 1e-4},
                     {"score_mean", 0.5 * k},
                     {"score_std", 2.0},
                     {"raw_score_mean", 0.5 * k},
                     {"penalized_fraction", 0.0},
                     {"kl", 1.0 * k},
                     {"kl_coef", 0.1 + 0.01 * k},
                     {"kl_coef_next", 0.11 + 0.01 * k},
                     {"entropy", 3.0}});
  }
  write_lines(path, lines, tail);
}

inline void write_ppo_samples(const fs::path& path, const SyntheticRun& s) {
  std::vector<nlohmann::ordered_json> lines;
  for (int k = 0; k < s.batches_done; k += 2) {
    lines.push_back({{"batch", k},
                     {"score", 1.0 * k},
                     {"query", "Query of batch " + std::to_string(k)},
                     {"response", k == 0 ? kNastySample : " a later response"}});
  }
  write_lines(path, lines);
}

// A reward model of `steps` steps: accuracy 0.25 + 0.05 step, loss 1.4 - 0.05 step, validated at the end.
inline void write_reward_model(const fs::path& dir, int steps, int labels) {
  std::vector<nlohmann::ordered_json> lines = {
      {{"normalization", "before"}, {"raw_mean", 0.5}, {"raw_std", 1.5}, {"samples", 32}}};
  for (int step = 1; step <= steps; ++step) {
    lines.push_back({{"accuracy", 0.25 + 0.05 * step},
                     {"comparisons_per_s", 90.0},
                     {"epoch", 0},
                     {"loss", 1.4 - 0.05 * step},
                     {"lr", 1e-4},
                     {"step", step}});
  }
  lines.push_back({{"eval", true}, {"step", steps}, {"validation_accuracy", 0.6}, {"validation_loss", 0.9}});
  lines.push_back({{"normalization", "after"}, {"raw_mean", -2.0}, {"raw_std", 1.5}, {"samples", 32}});
  write_lines(dir / "metrics.jsonl", lines);
  const int held_out = labels / 10;
  const nlohmann::ordered_json rm = {{"format", "rlhf-reward-model"},
                                     {"format_version", 1},
                                     {"num_samples", 4},
                                     {"pad_id", 50259},
                                     {"training",
                                      {{"steps", steps},
                                       {"train_accuracy", 0.5},
                                       {"train_count", labels - held_out},
                                       {"train_loss", 1.1},
                                       {"validation_accuracy", 0.6},
                                       {"validation_count", held_out},
                                       {"validation_loss", 0.9}}}};
  write_file_atomic(dir / "reward_model.json", rm.dump(2) + "\n");
}

// An evaluation with the mock labeler beside the score; `shift` moves every mean.
inline eval::PolicyEvaluation synthetic_eval(double shift) {
  eval::PolicyEvaluation e;
  e.score = {0.4 + shift, 1.5, 0.1, 256};
  e.raw_score = e.score;
  e.extra = {{"labeler", {0.02 + shift / 4, 0.5, 0.03, 256}}};
  e.kl = {2 * shift, 3.0, 0.2, 256};
  e.entropy = {80.0, 10.0, 0.7, 256};
  e.penalized_fraction = 0.5;
  e.mean_length = 20;
  e.samples = {{"Mind!  I don't mean", shift == 0 ? kNastySample : " a kinder reply.", 1.5 + shift}};
  return e;
}

inline void write_eval(const fs::path& path, const eval::PolicyEvaluation& e) {
  fs::create_directories(path.parent_path());
  write_file_atomic(path, e.to_json().dump(2) + "\n");
}

// A run directory of `rlhf train` (mock labels, reward model, PPO, evaluation) as far as `s` says.
inline void write_train_run(const fs::path& dir, const SyntheticRun& s) {
  pipeline::TrainConfig c;
  c.model = "models/tiny";
  c.run_dir = dir.string();
  c.task.queries.path = "/usr/share/games/fortunes";
  c.task.queries.format = "fortune";
  c.labels.source = "mock";
  c.labels.questions = 96;
  c.labels.rounds = s.rounds;
  c.labels.labeler.kind = "token_count";
  c.labels.labeler.token = 54;
  c.policy.ppo.batch_size = s.batch_size;
  c.policy.ppo.total_episodes = s.batch_size * s.total_batches;
  c.policy.kl.target = 3.0;
  fs::create_directories(dir);
  config::save_resolved_config(c, dir / "config.json");
  for (int r = 0; r < s.rounds; ++r) {
    write_reward_model(r == 0 ? dir / "reward_model" : dir / ("reward_model_round_" + std::to_string(r)), 10 + 5 * r,
                       96 * (r + 1));
  }
  write_ppo_metrics(dir / "policy" / "metrics.jsonl", s);
  write_ppo_samples(dir / "policy" / "samples.jsonl", s);
  if (!s.eval) return;
  fs::create_directories(dir / "eval");
  for (int r = 0; r < s.rounds && s.rounds > 1; ++r) {
    nlohmann::ordered_json j = {{"round", r},
                                {"labels", 96 * (r + 1)},
                                {"reward_model_validation_accuracy", 0.6},
                                {"reward_model_train_accuracy", 0.5},
                                {"policy", synthetic_eval(0.5 * (r + 1)).to_json()}};
    write_file_atomic(dir / "eval" / ("round_" + std::to_string(r) + ".json"), j.dump(2) + "\n");
  }
  write_eval(dir / "eval" / "initial.json", synthetic_eval(0));
  write_eval(dir / "eval" / "final.json", synthetic_eval(1));
  if (s.summary) write_file_atomic(dir / "summary.json", nlohmann::ordered_json{{"run_dir", dir.string()}}.dump());
}

// An output directory of `rlhf train-policy`.
inline void write_train_policy_run(const fs::path& dir, const SyntheticRun& s) {
  ppo::TrainPolicyConfig c;
  c.model = "models/tiny";
  c.output_dir = dir.string();
  c.ppo.batch_size = s.batch_size;
  c.ppo.total_episodes = s.batch_size * s.total_batches;
  fs::create_directories(dir);
  config::save_resolved_config(c, dir / "config.json");
  write_ppo_metrics(dir / "metrics.jsonl", s);
  write_ppo_samples(dir / "samples.jsonl", s);
}

// An output directory of `rlhf train-reward`.
inline void write_train_reward_run(const fs::path& dir) {
  reward::TrainRewardConfig c;
  c.model = "models/tiny";
  c.output = dir.string();
  fs::create_directories(dir);
  write_reward_model(dir, 12, 200);
  write_file_atomic(dir / "train_reward.config.json", config::to_json(c).dump(2) + "\n");
}

}  // namespace rlhf::testing
