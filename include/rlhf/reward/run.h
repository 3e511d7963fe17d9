// A whole reward-model run (what `rlhf train-reward` and the reward stage of `rlhf train` do): read
// and check the labels, normalise the fresh model on reference-policy samples, train one epoch,
// normalise again, write the reward-model directory atomically (paper-spec sections 2.2 and 3).
#pragma once

#include <string>

#include "rlhf/config/config.h"
#include "rlhf/core/runtime.h"
#include "rlhf/data/labels.h"
#include "rlhf/data/queries.h"
#include "rlhf/reward/training.h"

namespace rlhf::reward {

struct LabelsSection {
  std::string path;            // the label file
  data::LabelOptions options;  // format, pad id, limits, skipping

  template <class V>
  void visit(V& v) {
    v.field("path", path, "Label file: OpenAI JSON array (token ids) or JSON Lines of texts");
    options.visit(v);
  }
};

struct TrainRewardConfig {
  core::RuntimeConfig runtime;
  std::string model;  // pretrained GPT-2 directory: trunk init and reference policy
  LabelsSection labels;
  data::QueryOptions queries;  // normalisation queries; empty path = the label queries
  RewardTrainingOptions training;
  NormalizationOptions normalization;
  std::string output;  // the reward-model directory to write

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "Pretrained GPT-2 directory (initialises the trunk; the reference policy)");
    v.section("labels", labels, "The comparisons to learn from");
    v.section("queries", queries,
              "Queries for normalisation samples; with no path, the queries of the label file are used");
    v.section("training", training, "Optimisation");
    v.section("normalization", normalization, "Scaling rewards to mean 0, std 1 on reference samples");
    v.field("output", output, "Reward-model directory to write (replaced atomically at the end)");
  }
};

// Checks what can be checked without loading anything big: the paths given and writable, pad ids that
// agree. Throws rlhf::Error naming the key.
void check_reward_run(const TrainRewardConfig& config);

// Runs it all (check_reward_run first) and returns the summary also stored in reward_model.json:
// label counts, normalisation statistics, training and validation loss and accuracy.
nlohmann::json run_reward_training(const TrainRewardConfig& config, const core::Runtime& runtime);

}  // namespace rlhf::reward
