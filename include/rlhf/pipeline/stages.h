// The stages of `rlhf train` (train.h), each skipping itself when its output is already complete.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "rlhf/core/runtime.h"
#include "rlhf/data/queries.h"
#include "rlhf/model/gpt2_config.h"
#include "rlhf/pipeline/train.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::pipeline {

// What every stage shares, loaded and checked once before any long work.
struct StageContext {
  core::Runtime runtime;
  model::Gpt2Config model_config;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  std::shared_ptr<const data::QueryDataset> queries;       // task.queries
  std::shared_ptr<const data::QueryDataset> eval_queries;  // eval.queries_path (or the task's)
};

// Loads the tokenizer and the query datasets and checks lengths against the model's context. Throws
// rlhf::Error naming the key or file.
StageContext load_context(const TrainConfig& config, const core::Runtime& runtime);

// The generators' seed at the start of each stage, so a resumed run draws what a straight one would.
std::uint64_t stage_seed(std::uint64_t seed, int stage);

// labels.source = mock: questions from the initial policy (rejection sampling), answered by the mock
// labeler, written to labels/labels.json (OpenAI format) and labels/labels.txt.
void run_label_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths);

// The reward model on the labels (file or mock), into reward_model/.
void run_reward_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths);

// PPO into policy/, resumed from policy/checkpoint when there is one. Returns true when all PPO
// batches are done.
bool run_policy_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths,
                      std::int64_t max_batches);

// The initial and the final policy on the evaluation queries (eval/initial.json, eval/final.json);
// returns the summary of the run.
nlohmann::ordered_json run_eval_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths);

// The PPO configuration the policy stage runs (also what `rlhf train-policy` would take).
ppo::TrainPolicyConfig policy_config(const TrainConfig& config, const RunPaths& paths);

}  // namespace rlhf::pipeline
