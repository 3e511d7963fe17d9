// rlhf train: the whole offline experiment (labels, reward model, PPO, evaluation) in one run
// directory; running it again resumes (include/rlhf/pipeline/train.h).
#include <iostream>

#include "common.h"
#include "rlhf/pipeline/report.h"
#include "rlhf/pipeline/train.h"

namespace rlhf::cli {
namespace {

struct TrainArgs {
  ConfigLayers layers;
  pipeline::TrainOptions options;
};

void run_train(TrainArgs& args) {
  const auto config = resolve_config<pipeline::TrainConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  const auto summary = pipeline::run_train(config, runtime, args.options);
  if (summary.value("finished", true)) std::cout << pipeline::render_summary(summary) << std::flush;
  if (summary.contains("waiting_for_person")) std::cout << summary["waiting_for_person"].get<std::string>() << "\n";
}

}  // namespace

void register_train(CLI::App& app) {
  register_config_doc<pipeline::TrainConfig>("train");
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Run an experiment end to end: labels, reward model, PPO, evaluation (again = resume)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Pretrained GPT-2 directory");
  add_key_flag(*cmd, "--run-dir,-o", "run_dir", args->layers, "Run directory");
  add_key_flag(*cmd, "--labels", "labels.path", args->layers, "Label file (labels.source = file)");
  add_key_flag(*cmd, "--queries", "task.queries.path", args->layers, "Query texts file");
  add_key_flag(*cmd, "--total-episodes", "policy.ppo.total_episodes", args->layers, "PPO episodes in the whole run");
  cmd->add_flag("--force", args->options.force,
                "Continue a run directory whose saved configuration differs (finished stages are kept)");
  cmd->add_option("--max-ppo-batches", args->options.max_ppo_batches,
                  "Stop the PPO stage after this many batches (checkpointed; run again to continue)");
  cmd->callback([args] { run_train(*args); });
}

}  // namespace rlhf::cli
