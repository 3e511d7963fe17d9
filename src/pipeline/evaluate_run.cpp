#include "rlhf/pipeline/evaluate_run.h"

#include "rlhf/config/config.h"
#include "rlhf/pipeline/stages.h"
#include "rlhf/pipeline/train.h"
#include "rlhf/util/error.h"

namespace rlhf::pipeline {
namespace fs = std::filesystem;

eval::EvaluateConfig evaluate_config_from_run(const fs::path& run_dir) {
  const RunPaths paths{run_dir};
  std::error_code ec;
  if (!fs::is_regular_file(paths.config(), ec)) {
    throw_file_error(run_dir.string(), "is not an `rlhf train` run directory (expected config.json in it)");
  }
  TrainConfig train;
  config::read_config_file(train, paths.config());

  eval::EvaluateConfig c;
  c.runtime = train.runtime;
  c.policies = {train.model, paths.final_policy().string()};
  c.names = {"initial", "final"};
  c.reference = train.model;
  if (train.policy.reward == "reward_model") {
    c.reward_model = paths.round_reward_model(train.labels.rounds - 1).string();
  }
  const bool mock = train.labels.source == "mock" && train.labels.labeler.kind != "person";
  c.use_labeler = (mock && train.eval.use_labeler) || train.policy.reward == "labeler";
  c.labeler = train.labels.labeler;
  c.task = train.task;
  if (!train.eval.queries_path.empty()) c.task.queries.path = train.eval.queries_path;
  c.queries = train.eval.queries;
  c.batch_size = train.eval.batch_size;
  c.samples_shown = train.eval.samples_shown;
  c.seed = static_cast<std::int64_t>(eval_seed(train));
  return c;
}

}  // namespace rlhf::pipeline
