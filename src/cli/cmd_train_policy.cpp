// rlhf train-policy: PPO fine-tuning of GPT-2 against a reward model or a programmatic reward.
#include <filesystem>

#include "common.h"
#include "rlhf/ppo/trainer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::cli {
namespace {
namespace fs = std::filesystem;

struct TrainPolicyArgs {
  ConfigLayers layers;
  bool resume = false;
  bool overwrite = false;
  std::int64_t max_batches = -1;
};

// A run directory that already holds a run is continued (--resume) or started again (--overwrite),
// never silently mixed: the metrics of two runs in one file, or a finished policy replaced.
void prepare_output(const std::string& output_dir, const TrainPolicyArgs& args) {
  if (args.resume && args.overwrite) throw Error("--resume and --overwrite: give one of them");
  const fs::path dir(output_dir);
  restore_interrupted_commit(dir / "checkpoint");
  std::error_code ec;
  const bool has_run = fs::exists(dir / "checkpoint" / "state.json", ec) || fs::exists(dir / "metrics.jsonl", ec);
  if (args.resume && !fs::exists(dir / "checkpoint" / "state.json", ec)) {
    throw Error((dir / "checkpoint").string() +
                ": no checkpoint to resume from (state.json missing); run without --resume to start");
  }
  if (args.resume || !has_run) return;
  if (!args.overwrite) {
    throw Error("output_dir: " + output_dir +
                " already holds a PPO run (checkpoint or metrics); add --resume to continue it, or --overwrite to "
                "start again (its checkpoint, metrics and samples are replaced)");
  }
  for (const char* name : {"metrics.jsonl", "samples.jsonl"}) fs::remove(dir / name, ec);
  spdlog::warn("--overwrite: starting again in {}; the old checkpoint is replaced at the first save", output_dir);
}

void run_train_policy(TrainPolicyArgs& args) {
  const auto config = resolve_config<ppo::TrainPolicyConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  if (config.output_dir.empty()) throw Error("output_dir: no run directory given (--output DIR)");
  prepare_output(config.output_dir, args);
  ppo::PpoTrainer trainer(config, runtime, ppo::load_parts(config, runtime));
  if (args.resume) trainer.resume();
  trainer.run(args.max_batches);
  spdlog::info("done: {} of {} PPO batches; policy in {}/checkpoint/policy", trainer.next_batch(),
               trainer.num_batches(), config.output_dir);
}

}  // namespace

void register_train_policy(CLI::App& app) {
  register_config_doc<ppo::TrainPolicyConfig>("train-policy");
  auto args = std::make_shared<TrainPolicyArgs>();
  CLI::App* cmd = app.add_subcommand("train-policy", "Fine-tune a GPT-2 policy with PPO against a reward");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Initial policy (and reference) GPT-2 directory");
  add_key_flag(*cmd, "--output,-o", "output_dir", args->layers, "Run directory (metrics, samples, checkpoint)");
  add_key_flag(*cmd, "--reward-model", "reward.model_dir", args->layers, "Reward model directory (rlhf train-reward)");
  add_key_flag(*cmd, "--queries", "task.queries.path", args->layers, "Query texts file");
  add_key_flag(*cmd, "--total-episodes", "ppo.total_episodes", args->layers, "Episodes in the whole run");
  cmd->add_flag("--resume", args->resume, "Continue the run saved in OUTPUT/checkpoint");
  cmd->add_flag("--overwrite", args->overwrite, "Start again in an output directory that holds a run");
  cmd->add_option("--max-batches", args->max_batches,
                  "Stop after this many PPO batches (checkpointed); -1 = run to the end");
  cmd->callback([args] { run_train_policy(*args); });
}

}  // namespace rlhf::cli
