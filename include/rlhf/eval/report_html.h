// `rlhf report`: one self-contained HTML page (inline SVG charts and CSS, no scripts, nothing fetched)
// about one or more run directories, to compare them at a glance:
//   - PPO: score (+-stderr of each batch), KL with its target, and beta against episodes, runs overlaid;
//   - reward models: training accuracy and loss against steps (one curve per round), validation dots;
//   - the reward-versus-KL frontier (the paper's figure 3): one point per run and per round;
//   - tables: each run's key configuration, the evaluation before and after with standard errors, the
//     rounds of batched collection, and sample texts of the initial and the final policy side by side.
// Directories written by `rlhf train`, `rlhf train-policy` (PPO only) and `rlhf train-reward` (a reward
// model only) are read. A run still in progress is shown as far as it got, with what is missing said.
// Reading needs no LibTorch: only the JSON files the runs wrote.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/config/constraints.h"

namespace rlhf::eval {

struct ReportOptions {
  std::string title = "rlhf report";  // heading of the page
  int max_points = 300;               // PPO curves with more batches are averaged into this many points
  int samples = 3;                    // sample texts per policy

  template <class V>
  void visit(V& v) {
    v.field("title", title, "Heading of the page");
    v.field("max_points", max_points, "PPO curves with more batches are averaged into this many points",
            config::Range::at_least(10));
    v.field("samples", samples, "Sample texts shown per policy", config::Range::at_least(0));
  }
};

// PPO's batches (policy/metrics.jsonl of `rlhf train`, metrics.jsonl of `rlhf train-policy`).
struct PpoCurve {
  std::vector<double> episodes, score, score_stderr, kl, kl_coef, entropy;  // one per batch
  std::int64_t batch_size = 0;     // episodes per batch (from the configuration)
  std::int64_t total_batches = 0;  // planned; 0 = unknown
};

// One reward model's training (metrics.jsonl of its directory).
struct RewardCurve {
  std::string name;  // "reward model", or "round R" in batched collection
  std::filesystem::path dir;
  std::vector<double> step, loss, accuracy;                             // per training step
  std::vector<double> eval_step, validation_loss, validation_accuracy;  // held-out comparisons
  int num_samples = 0;              // samples per question (chance accuracy = 1 / num_samples); 0 = unknown
  nlohmann::ordered_json training;  // reward_model.json's summary of the training; null while training
};

// Everything the report shows about one directory.
struct RunReport {
  std::filesystem::path dir;
  std::string name;                // short label for legends (set by name_runs)
  std::string kind;                // train | train-policy | train-reward
  nlohmann::ordered_json config;   // the saved configuration (null when absent)
  nlohmann::ordered_json summary;  // summary.json of `rlhf train` (null until the run finished)
  PpoCurve ppo;
  std::vector<RewardCurve> reward_models;
  nlohmann::ordered_json initial, final;       // eval/{initial,final}.json (null when absent)
  std::vector<nlohmann::ordered_json> rounds;  // eval/round_R.json, in round order, as far as they exist
  int planned_rounds = 1;
  std::vector<nlohmann::ordered_json> ppo_samples;  // PPO's sample texts (samples.jsonl)
  std::vector<std::string> missing;                 // what is not there (yet), in words, for the page
};

// Reads a run directory. Throws rlhf::Error naming the directory and what was expected when it is
// none of the three kinds, or naming the file (and line) when a file is not valid JSON. A JSON Lines
// file whose last line was cut by a kill is read without that line.
RunReport load_run(const std::filesystem::path& dir);

// Short, distinct legend names: the paths without their common leading folders.
void name_runs(std::vector<RunReport>& runs);

// The page.
std::string render_report(const std::vector<RunReport>& runs, const ReportOptions& options);

// load_run for each directory, name_runs, render_report, written atomically to `output`.
void write_report(const std::vector<std::filesystem::path>& dirs, const std::filesystem::path& output,
                  const ReportOptions& options);

}  // namespace rlhf::eval
