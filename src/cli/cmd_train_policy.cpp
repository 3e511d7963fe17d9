// rlhf train-policy: PPO fine-tuning of GPT-2 against a reward model or a programmatic reward.
#include "common.h"
#include "rlhf/ppo/trainer.h"

namespace rlhf::cli {
namespace {

struct TrainPolicyArgs {
  ConfigLayers layers;
  bool resume = false;
  std::int64_t max_batches = -1;
};

void run_train_policy(TrainPolicyArgs& args) {
  const auto config = resolve_config<ppo::TrainPolicyConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  if (config.output_dir.empty()) throw Error("output_dir: no run directory given (--output DIR)");
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
  cmd->add_option("--max-batches", args->max_batches,
                  "Stop after this many PPO batches (checkpointed); -1 = run to the end");
  cmd->callback([args] { run_train_policy(*args); });
}

}  // namespace rlhf::cli
