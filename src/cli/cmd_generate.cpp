// rlhf generate: sample continuations of prompts, JSON Lines out.
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/model/batching.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct GenerateConfig {
  core::RuntimeConfig runtime;
  std::string model;                  // model directory (Hugging Face layout)
  sampling::SamplingOptions sampling;
  int batch_size = 16;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "Model directory: config.json, weights, tokenizer files");
    v.section("sampling", sampling, "How continuations are drawn");
    v.field("batch_size", batch_size, "Prompts sampled together", config::Range::at_least(1));
  }
};

struct GenerateArgs {
  ConfigLayers layers;
  std::vector<std::string> prompts;
  std::string prompts_file;
  std::string output;
};

void run_generate(GenerateArgs& args) {
  auto config = resolve_config<GenerateConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  check_output_file(args.output);
  if (config.model.empty()) throw Error("model: no model directory given (--model DIR)");
  const std::vector<std::string> prompts =
      gather_texts(args.prompts, args.prompts_file, "prompt", "no prompts: give --prompt TEXT or --prompts FILE");

  const auto tokenizer = tokenizer::load_tokenizer(config.model);
  model::Gpt2 model = load_inference_model(config.model, runtime);
  const int context = model->config().n_positions;
  std::string out;
  for (std::size_t start = 0; start < prompts.size(); start += config.batch_size) {
    const std::size_t end = std::min(prompts.size(), start + config.batch_size);
    std::vector<std::vector<int>> rows;
    for (std::size_t i = start; i < end; ++i) {
      rows.push_back(tokenizer->encode(prompts[i]));
      if (rows.back().empty()) throw Error("prompt " + std::to_string(i) + " is empty: nothing to continue from");
      if (static_cast<int>(rows.back().size()) + config.sampling.max_new_tokens > context) {
        throw Error("prompt " + std::to_string(i) + " has " + std::to_string(rows.back().size()) +
                    " tokens; with max_new_tokens it exceeds the model's context of " + std::to_string(context));
      }
    }
    auto [ids, mask] = model::pad_right(rows, config.sampling.pad_id);
    const auto samples = sampling::sample(*model, ids.to(runtime.device), mask.to(runtime.device), config.sampling);
    const at::Tensor tokens = samples.tokens.cpu(), logprobs = samples.logprobs.cpu(), lengths = samples.lengths.cpu();
    for (std::size_t i = start; i < end; ++i) {
      const auto b = static_cast<std::int64_t>(i - start);
      const auto n = lengths[b].item<std::int64_t>();
      const auto* tok = tokens[b].data_ptr<std::int64_t>();
      const auto* lp = logprobs[b].data_ptr<float>();
      const std::vector<int> completion(tok, tok + n);
      const std::vector<float> completion_logprobs(lp, lp + n);
      nlohmann::json record = {{"prompt", prompts[i]},
                               {"completion", tokenizer->decode(completion)},
                               {"prompt_tokens", rows[b]},
                               {"tokens", completion},
                               {"logprobs", completion_logprobs}};
      out += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  }
  write_output(args.output, out);
  save_config_next_to(args.output, config);
}

}  // namespace

void register_generate(CLI::App& app) {
  register_config_doc<GenerateConfig>("generate");
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Sample continuations of prompts (JSON Lines out)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Model directory");
  cmd->add_option("--prompt,-p", args->prompts, "A prompt (repeatable)");
  cmd->add_option("--prompts", args->prompts_file, "File of prompts: one per line (.txt) or JSON Lines with \"prompt\"");
  cmd->add_option("--output,-o", args->output, "Output JSON Lines file (default: stdout)");
  add_key_flag(*cmd, "--max-new-tokens,-n", "sampling.max_new_tokens", args->layers, "Tokens to generate");
  add_key_flag(*cmd, "--temperature,-t", "sampling.temperature", args->layers, "Sampling temperature (0 = greedy)");
  add_key_flag(*cmd, "--top-k", "sampling.top_k", args->layers, "Top-k filtering (0 = off)");
  add_key_flag(*cmd, "--top-p", "sampling.top_p", args->layers, "Nucleus filtering (1 = off)");
  add_bool_flag(*cmd, "--stop-at-eos", "sampling.stop_at_eos", args->layers, "Stop each row at end-of-text");
  add_key_flag(*cmd, "--batch-size,-b", "batch_size", args->layers, "Prompts per batch");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace rlhf::cli
