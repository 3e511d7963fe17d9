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
// The evaluation stage's sampling seed (the same for every policy it measures).
std::uint64_t eval_seed(const TrainConfig& config);

// Thrown by the label stage when a person must answer questions before the run can go on.
struct WaitingForPerson {
  std::string message;
};

// labels.source = mock: questions sampled from the policy in `policy_dir` (rejection sampling),
// answered by the mock labeler, written to paths.round_labels(round) (OpenAI format) and a .txt
// rendering. Round r takes the queries [r * questions, (r + 1) * questions) of the shuffled order.
// With labeler.kind = person the questions go to paths.round_questions(round) instead, and the stage
// throws WaitingForPerson until `rlhf label` has answered all of them into paths.round_labels(round).
void run_label_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths, int round,
                     const std::filesystem::path& policy_dir);

// The reward model of `round` on paths.training_labels(round) (the label file for labels.source =
// file), into paths.round_reward_model(round).
void run_reward_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths, int round);

// PPO into policy/ against the reward model in `reward_dir`, resumed from policy/checkpoint when there
// is one, until batch `stop_batch` (exclusive) or `max_batches` more. Returns true when stop_batch is
// reached.
bool run_policy_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths,
                      std::int64_t max_batches, const std::filesystem::path& reward_dir, std::int64_t stop_batch);

// Batched collection: the policy at the end of `round` measured on the evaluation queries against the
// round's reward model and the labeler (eval/round_R.json, written once).
nlohmann::ordered_json run_round_eval(const TrainConfig& config, const StageContext& context, const RunPaths& paths,
                                      int round);

// The initial and the final policy on the evaluation queries (eval/initial.json, eval/final.json);
// returns the summary of the run.
nlohmann::ordered_json run_eval_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths);

// The PPO configuration the policy stage runs against the reward model in `reward_dir` (also what
// `rlhf train-policy` would take).
ppo::TrainPolicyConfig policy_config(const TrainConfig& config, const RunPaths& paths,
                                     const std::filesystem::path& reward_dir);

}  // namespace rlhf::pipeline
