// rlhf bench: forward and sampling throughput, JSON out.
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/ppo/benchmark.h"
#include "rlhf/reward/training.h"
#include "rlhf/sampling/benchmark.h"
#include "rlhf/sft/trainer.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct BenchConfig {
  core::RuntimeConfig runtime;
  std::string model;          // a model directory, or empty to use `size` with random weights
  std::string size = "124M";  // 124M, 355M, 774M, 1.5B
  sampling::BenchOptions bench;
  bool reward = false;        // also time reward-model training steps
  int reward_samples = 4;     // candidates per comparison
  bool ppo = false;           // also time whole PPO batches
  int ppo_batch_size = 64;    // episodes per PPO batch
  int ppo_microbatch_size = 0;  // rows per gradient-accumulation step; 0 = the whole minibatch
  int ppo_epochs = 4;           // PPO epochs per batch
  bool ppo_forbid_sync = false;  // the timed PPO batches forbid host synchronisation in their loops
  bool sft = false;           // also time supervised fine-tuning steps

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "Model directory; empty = a GPT-2 of `size` with random weights");
    v.field("size", size, "GPT-2 size when no model directory is given", config::OneOf{{"124M", "gpt2", "355M", "gpt2-medium", "774M", "gpt2-large", "1.5B", "1558M", "gpt2-xl"}});
    v.field("batch_size", bench.batch_size, "Sequences per batch", config::Range::at_least(1));
    v.field("prompt_length", bench.prompt_length, "Prompt tokens", config::Range::at_least(1));
    v.field("new_tokens", bench.new_tokens, "Sampled tokens", config::Range::at_least(1));
    v.field("iterations", bench.iterations, "Timed repetitions (median reported)", config::Range::at_least(1));
    v.field("warmup", bench.warmup, "Untimed repetitions first", config::Range::at_least(0));
    v.field("temperature", bench.temperature, "Sampling temperature", config::Range::greater_than(0.0));
    v.field("reward", reward, "Also time reward-model training (batch_size comparisons of prompt_length + new_tokens)");
    v.field("reward_samples", reward_samples, "Candidates per comparison in the reward benchmark",
            config::Range::at_least(2));
    v.field("ppo", ppo, "Also time whole PPO batches (rollout, reference, reward model, 4 epochs of training)");
    v.field("ppo_batch_size", ppo_batch_size, "Episodes per PPO batch in the PPO benchmark", config::Range::at_least(1));
    v.field("ppo_microbatch_size", ppo_microbatch_size,
            "Rows per gradient-accumulation step in the PPO benchmark; 0 = the whole batch (must divide it)",
            config::Range::at_least(0));
    v.field("ppo_epochs", ppo_epochs, "PPO epochs per batch in the PPO benchmark", config::Range::at_least(1));
    v.field("ppo_forbid_sync", ppo_forbid_sync,
            "Timed PPO batches fail on any host synchronisation inside the rollout or minibatch loops (CUDA "
            "sync-debug mode; needs a CUDA build, checks nothing on the CPU)");
    v.field("sft", sft, "Also time supervised fine-tuning steps (batch_size rows of prompt_length + new_tokens)");
  }
};

struct BenchArgs {
  ConfigLayers layers;
  std::string output;
};

void run_bench(BenchArgs& args) {
  auto config = resolve_config<BenchConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  check_output_file(args.output);
  model::Gpt2 model = config.model.empty() ? model::Gpt2(model::named_gpt2_config(config.size))
                                           : model::load_gpt2(config.model);
  place_for_inference(*model, runtime);
  nlohmann::json result = sampling::run_benchmark(*model, config.bench);
  result["model"] = config.model.empty() ? "random " + config.size : config.model;
  result["parameters"] = model::gpt2_parameter_count(model->config());
  result["shape"] = {{"n_layer", model->config().n_layer},
                     {"n_head", model->config().n_head},
                     {"n_embd", model->config().n_embd},
                     {"vocab_size", model->config().vocab_size}};
  result["device"] = runtime.device.str();
  result["threads"] = runtime.threads;
  result["precision"] = config.runtime.precision;
  result["train_precision"] = config.runtime.train_precision;
  if (config.reward) {
    // A reward model with this trunk (head freshly initialised), fp32 weights as train-reward trains them
    // (forwards under runtime.train_precision's autocast).
    model->to(at::kFloat);
    reward::RewardModel reward_model(model);
    reward_model->to(runtime.device);
    result["reward_training_comparisons_per_s"] = reward::benchmark_training(
        *reward_model, config.bench.batch_size, config.reward_samples, config.bench.prompt_length,
        config.bench.new_tokens, config.bench.iterations, core::train_precision(runtime));
  }
  if (config.ppo) {
    ppo::BenchmarkOptions options;
    options.batch_size = config.ppo_batch_size;
    options.microbatch_size = config.ppo_microbatch_size;
    options.noptepochs = config.ppo_epochs;
    options.forbid_sync = config.ppo_forbid_sync;
    options.query_length = config.bench.prompt_length;
    options.response_length = config.bench.new_tokens;
    options.batches = config.bench.iterations;
    options.warmup = config.bench.warmup;
    result["ppo"] = ppo::benchmark(model->config(), options, runtime);
  }
  if (config.sft) {
    // Last: it trains the model in place (fp32 weights as rlhf sft, forwards in runtime.train_precision).
    model->to(runtime.device, at::kFloat);
    result["sft_training_tokens_per_s"] = sft::benchmark_sft(
        *model, config.bench.batch_size, config.bench.prompt_length + config.bench.new_tokens, config.bench.iterations,
        core::train_precision(runtime));
  }
  save_config_next_to(args.output, config);
  write_output(args.output, result.dump(2) + "\n");
}

}  // namespace

void register_bench(CLI::App& app) {
  register_config_doc<BenchConfig>("bench");
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Forward and sampling throughput of a GPT-2 (JSON out)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Model directory (default: random weights of --size)");
  add_key_flag(*cmd, "--size", "size", args->layers, "GPT-2 size for random weights: 124M, 355M, 774M, 1.5B");
  add_key_flag(*cmd, "--batch-size,-b", "batch_size", args->layers, "Batch size");
  add_key_flag(*cmd, "--prompt-length", "prompt_length", args->layers, "Prompt tokens");
  add_key_flag(*cmd, "--new-tokens", "new_tokens", args->layers, "Sampled tokens");
  add_key_flag(*cmd, "--iterations", "iterations", args->layers, "Timed repetitions");
  add_key_flag(*cmd, "--warmup", "warmup", args->layers, "Untimed repetitions");
  add_bool_flag(*cmd, "--reward", "reward", args->layers, "Also time reward-model training");
  add_bool_flag(*cmd, "--ppo", "ppo", args->layers, "Also time whole PPO batches");
  add_bool_flag(*cmd, "--sft", "sft", args->layers, "Also time supervised fine-tuning steps");
  add_key_flag(*cmd, "--ppo-batch-size", "ppo_batch_size", args->layers, "Episodes per PPO batch");
  add_key_flag(*cmd, "--ppo-microbatch-size", "ppo_microbatch_size", args->layers,
               "Rows per gradient-accumulation step in PPO (0 = whole batch)");
  add_key_flag(*cmd, "--ppo-epochs", "ppo_epochs", args->layers, "PPO epochs per batch");
  add_bool_flag(*cmd, "--ppo-forbid-sync", "ppo_forbid_sync", args->layers,
                "Fail on host synchronisation inside the timed PPO batches' loops (CUDA)");
  cmd->add_option("--output,-o", args->output, "Output JSON file (default: stdout)");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace rlhf::cli
