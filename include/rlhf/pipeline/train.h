// `rlhf train`: the paper's offline experiment in one run directory (paper-spec sections 2-5):
//   labels        the comparisons: a label file, or questions sampled from the initial policy with the
//                 paper's rejection sampling and answered by a mock labeler (labels/);
//   reward_model  the reward model trained on them and normalised (reward_model/);
//   policy        PPO against the frozen initial policy with the adaptive KL penalty (policy/);
//   eval          the initial and the final policy measured on the same queries (eval/), and a
//                 summary (summary.json, summary.md).
// Running the same configuration again resumes: finished stages are skipped, an interrupted PPO stage
// continues from its last checkpoint. Every stage writes its outputs atomically, so a killed run
// leaves each stage either complete or absent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "rlhf/config/constraints.h"
#include "rlhf/core/runtime.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/ppo/config.h"
#include "rlhf/reward/training.h"

namespace rlhf::pipeline {

struct LabelStage {
  std::string source = "file";  // file | mock
  std::string path;             // source = file: the label file
  data::LabelOptions options;   // format, pad id, limit (the paper's num_train), bad records
  // source = mock: questions sampled from the initial policy and answered by `labeler`.
  int questions = 1000;
  int num_samples = 4;     // samples per question (the paper: 4)
  int max_attempts = 50;   // rejection sampling: draws per sample before giving up
  int batch_size = 64;     // rows sampled together
  int rounds = 1;          // source = mock: batched collection in this many rounds (1 = offline)
  labelers::LabelerOptions labeler;

  template <class V>
  void visit(V& v) {
    v.field("source", source,
            "file (a label file, e.g. OpenAI's released labels) | mock (questions sampled from the initial "
            "policy, answered by `labeler`)",
            config::OneOf{{"file", "mock"}});
    v.field("path", path, "source = file: the label file (OpenAI JSON array or JSON Lines of texts)");
    options.visit(v);
    v.field("questions", questions, "source = mock: questions to sample and label", config::Range::at_least(1));
    v.field("num_samples", num_samples, "source = mock: samples per question (the paper: 4)",
            config::Range::at_least(2));
    v.field("max_attempts", max_attempts,
            "source = mock: draws per sample until the truncate token falls in the window (paper-spec 5)",
            config::Range::at_least(1));
    v.field("batch_size", batch_size, "source = mock: rows sampled together", config::Range::at_least(1));
    v.field("rounds", rounds,
            "source = mock: batched collection. Round r samples `questions` new questions from the current policy, "
            "retrains the reward model from the pretrained model on every label so far, and runs the next "
            "1/rounds of the PPO episodes against it (the paper's online collection); 1 = offline",
            config::Range::at_least(1));
    v.section("labeler", labeler,
              "The mock labeler: answers source = mock questions, scores evaluations, and is the reward of "
              "policy.reward = labeler");
  }
};

struct NormalizationStage {
  bool before = true;           // normalise the fresh reward model (the paper)
  bool after = true;            // and the trained one
  int samples = 256;            // reference-policy samples (OpenAI's code draws 512 for books)
  int rollout_batch_size = 64;  // samples drawn together

  template <class V>
  void visit(V& v) {
    v.field("before", before, "Normalise rewards to mean 0, std 1 before training");
    v.field("after", after, "Normalise rewards to mean 0, std 1 after training");
    v.field("samples", samples, "Reference-policy samples per normalisation (at the task's temperature and length)",
            config::Range::at_least(2));
    v.field("rollout_batch_size", rollout_batch_size, "Samples drawn together", config::Range::at_least(1));
  }
};

struct RewardStage {
  reward::RewardTrainingOptions training;
  NormalizationStage normalization;

  template <class V>
  void visit(V& v) {
    v.section("training", training, "Optimisation of the reward model");
    v.section("normalization", normalization, "Scaling rewards to mean 0, std 1 on reference-policy samples");
  }
};

struct PolicyStage {
  std::string reward = "reward_model";  // reward_model | labeler (the paper's "direct access" baseline)
  ppo::KlOptions kl;
  ppo::PpoOptions ppo;
  ppo::GuardOptions guards;
  int save_interval = 50;
  int sample_interval = 10;
  int num_samples = 4;

  template <class V>
  void visit(V& v) {
    v.field("reward", reward,
            "What PPO maximises: reward_model (trained on the labels) | labeler (labels.labeler directly: no "
            "labels, no reward model)",
            config::OneOf{{"reward_model", "labeler"}});
    v.section("kl", kl, "KL coefficient");
    v.section("ppo", ppo, "PPO hyperparameters");
    v.section("guards", guards, "Checks that stop a run optimising the wrong thing");
    v.field("save_interval", save_interval, "Checkpoint every this many PPO batches (and at the end); 0 = end only",
            config::Range::at_least(0));
    v.field("sample_interval", sample_interval, "Write sample texts every this many PPO batches; 0 = never",
            config::Range::at_least(0));
    v.field("num_samples", num_samples, "Sample texts written each time", config::Range::at_least(0));
  }
};

struct EvalStage {
  bool enabled = true;
  std::string queries_path;  // "" = the task's query file; else another file, processed the same way
  int queries = 256;         // queries evaluated (the last ones of the file's shuffled order)
  int batch_size = 64;       // rows sampled together
  int samples_shown = 3;     // sample texts per policy in the summary
  bool use_labeler = true;   // also score with labels.labeler when labels.source = mock or policy.reward = labeler

  template <class V>
  void visit(V& v) {
    v.field("enabled", enabled, "Measure the initial and the final policy at the end");
    v.field("queries_path", queries_path,
            "Query file of the evaluation (processed like task.queries); empty = the task's file");
    v.field("queries", queries, "Queries evaluated: the last ones of the file's shuffled order",
            config::Range::at_least(1));
    v.field("batch_size", batch_size, "Rows sampled together", config::Range::at_least(1));
    v.field("samples_shown", samples_shown, "Sample texts per policy in the summary", config::Range::at_least(0));
    v.field("use_labeler", use_labeler, "Also score with the mock labeler when one is configured");
  }
};

struct TrainConfig {
  core::RuntimeConfig runtime;
  std::string model;    // pretrained GPT-2: initial policy, reference policy, reward-model trunk
  std::string run_dir;  // everything the run writes
  ppo::TaskOptions task;
  LabelStage labels;
  RewardStage reward_model;
  PolicyStage policy;
  EvalStage eval;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision of inference passes");
    v.field("model", model, "Pretrained GPT-2 directory: initial policy, reference policy and reward-model trunk");
    v.field("run_dir", run_dir, "Run directory (created; running again resumes it)");
    v.section("task", task, "Queries, responses, truncation: shared by every stage");
    v.section("labels", labels, "The comparisons the reward model learns from");
    v.section("reward_model", reward_model, "Reward-model training and normalisation");
    v.section("policy", policy, "PPO fine-tuning");
    v.section("eval", eval, "Measuring the initial and the final policy");
  }
  void check() const;
};

// What `rlhf train` needs to know beyond the configuration.
struct TrainOptions {
  bool force = false;  // continue a run directory whose saved configuration differs
  std::int64_t max_ppo_batches = -1;  // stop the PPO stage after this many batches (resumable); -1 = all
};

// Checks everything that can fail before the long work starts: paths, the query dataset (it is loaded),
// lengths against the model's context, a writable run directory, the saved configuration of an
// existing run. Throws rlhf::Error naming the key or file.
void check_train(const TrainConfig& config, const TrainOptions& options);

// Runs (or resumes) the whole experiment; returns the summary (also run_dir/summary.json).
nlohmann::ordered_json run_train(const TrainConfig& config, const core::Runtime& runtime, const TrainOptions& options);

// The parts of the run directory.
struct RunPaths {
  std::filesystem::path root;
  std::filesystem::path config() const { return root / "config.json"; }
  std::filesystem::path log() const { return root / "train.log"; }
  std::filesystem::path labels_dir() const { return root / "labels"; }
  std::filesystem::path labels() const { return root / "labels" / "labels.json"; }
  std::filesystem::path reward_model() const { return root / "reward_model"; }
  // Batched collection: round 0 uses labels() and reward_model(); round r > 0 its own files, and the
  // reward model of round r trains on every round's labels up to r.
  std::filesystem::path round_labels(int r) const {
    return r == 0 ? labels() : labels_dir() / ("round_" + std::to_string(r) + ".json");
  }
  std::filesystem::path round_questions(int r) const {
    return labels_dir() / ("round_" + std::to_string(r) + ".questions.json");
  }
  std::filesystem::path training_labels(int r) const {
    return r == 0 ? labels() : labels_dir() / ("rounds_0-" + std::to_string(r) + ".json");
  }
  std::filesystem::path round_reward_model(int r) const {
    return r == 0 ? reward_model() : root / ("reward_model_round_" + std::to_string(r));
  }
  std::filesystem::path policy() const { return root / "policy"; }
  std::filesystem::path final_policy() const { return root / "policy" / "checkpoint" / "policy"; }
  std::filesystem::path eval_dir() const { return root / "eval"; }
  std::filesystem::path summary() const { return root / "summary.json"; }
  std::filesystem::path summary_text() const { return root / "summary.md"; }
};

}  // namespace rlhf::pipeline
