// rlhf train-reward: a reward model from best-of-N comparisons (paper-spec section 3).
#include "common.h"
#include "rlhf/reward/run.h"

namespace rlhf::cli {
namespace {

struct TrainRewardArgs {
  ConfigLayers layers;
  bool overwrite = false;
};

void run_train_reward(TrainRewardArgs& args) {
  const auto config = resolve_config<reward::TrainRewardConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  refuse_finished_output(config.output, "reward_model.json", "a trained reward model", args.overwrite);
  reward::run_reward_training(config, runtime);
}

}  // namespace

void register_train_reward(CLI::App& app) {
  register_config_doc<reward::TrainRewardConfig>("train-reward");
  auto args = std::make_shared<TrainRewardArgs>();
  CLI::App* cmd = app.add_subcommand("train-reward", "Train a reward model on best-of-N comparisons");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Pretrained GPT-2 directory");
  add_key_flag(*cmd, "--labels", "labels.path", args->layers, "Label file");
  add_key_flag(*cmd, "--queries", "queries.path", args->layers, "Query file for normalisation samples");
  add_key_flag(*cmd, "--output,-o", "output", args->layers, "Reward-model directory to write");
  add_key_flag(*cmd, "--batch-size,-b", "training.batch_size", args->layers, "Comparisons per step");
  add_key_flag(*cmd, "--lr", "training.lr", args->layers, "Peak learning rate");
  add_bool_flag(*cmd, "--skip-bad-records", "labels.skip_bad_records", args->layers, "Skip bad label records");
  cmd->add_flag("--overwrite", args->overwrite, "Replace a reward model already in the output directory");
  cmd->callback([args] { run_train_reward(*args); });
}

}  // namespace rlhf::cli
