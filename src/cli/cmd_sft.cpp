// rlhf sft: supervised fine-tuning of GPT-2 on text or on (query, reference response) pairs (the
// paper's supervised baseline), or training a new small GPT-2 from a config.json.
#include <iostream>

#include "common.h"
#include "rlhf/sft/config.h"
#include "rlhf/sft/trainer.h"

namespace rlhf::cli {
namespace {

struct SftArgs {
  ConfigLayers layers;
};

void run_sft_command(SftArgs& args) {
  const auto config = resolve_config<sft::SftConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  const nlohmann::json summary = sft::run_sft(config, runtime);
  std::cout << summary.dump(2) << std::endl;
}

}  // namespace

void register_sft(CLI::App& app) {
  register_config_doc<sft::SftConfig>("sft");
  auto args = std::make_shared<SftArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sft", "Supervised fine-tuning on text or (query, response) pairs, or a new GPT-2 from a config.json");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "GPT-2 directory to fine-tune");
  add_key_flag(*cmd, "--init-config", "init_config", args->layers,
               "Hugging Face config.json of a new GPT-2 with random weights");
  add_key_flag(*cmd, "--tokenizer", "tokenizer", args->layers, "Tokenizer directory (default: the model's)");
  add_key_flag(*cmd, "--tokenizer-merges", "tokenizer_merges", args->layers,
               "Keep only the first K BPE merges (vocabulary 256 + K + 1)");
  add_key_flag(*cmd, "--data", "data.path", args->layers, "Training data file");
  add_key_flag(*cmd, "--mode", "data.mode", args->layers, "lm (packed text) or pairs (query, response)");
  add_key_flag(*cmd, "--format", "data.format", args->layers, "Data format (auto, text, jsonl, json, books, fortune, raw)");
  add_key_flag(*cmd, "--output,-o", "output", args->layers, "Output directory (model/, checkpoint/, metrics.jsonl)");
  add_key_flag(*cmd, "--max-steps", "training.max_steps", args->layers, "Optimizer steps (overrides --epochs)");
  add_key_flag(*cmd, "--epochs", "training.epochs", args->layers, "Passes over the data");
  add_key_flag(*cmd, "--lr", "training.lr", args->layers, "Peak learning rate");
  add_key_flag(*cmd, "--batch-size,-b", "training.batch_size", args->layers, "Rows per optimizer step");
  add_key_flag(*cmd, "--sequence-length", "training.sequence_length", args->layers, "Tokens per row");
  cmd->callback([args] { run_sft_command(*args); });
}

}  // namespace rlhf::cli
