// rlhf logprobs: per-token log-probabilities of texts under a model, JSON out.
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/model/batching.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct LogprobsConfig {
  core::RuntimeConfig runtime;
  std::string model;
  double temperature = 1.0;  // logits are divided by it, as in the paper's policy and reference
  int batch_size = 16;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "Model directory");
    v.field("temperature", temperature, "Logits are divided by it before the softmax", config::Range::greater_than(0.0));
    v.field("batch_size", batch_size, "Texts scored together", config::Range::at_least(1));
  }
};

struct LogprobsArgs {
  ConfigLayers layers;
  std::vector<std::string> texts;
  std::string file;
  std::string output;
};

void run_logprobs(LogprobsArgs& args) {
  auto config = resolve_config<LogprobsConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  check_output_file(args.output);
  if (config.model.empty()) throw Error("model: no model directory given (--model DIR)");
  const std::vector<std::string> texts =
      gather_texts(args.texts, args.file, "text", "no texts: give --text TEXT or --file FILE");
  const auto tokenizer = tokenizer::load_tokenizer(config.model);
  model::Gpt2 model = load_inference_model(config.model, runtime);

  nlohmann::json results = nlohmann::json::array();
  for (std::size_t start = 0; start < texts.size(); start += config.batch_size) {
    const std::size_t end = std::min(texts.size(), start + config.batch_size);
    std::vector<std::vector<int>> rows;
    for (std::size_t i = start; i < end; ++i) {
      rows.push_back(tokenizer->encode(texts[i]));
      if (static_cast<int>(rows.back().size()) > model->config().n_positions) {
        throw Error("text " + std::to_string(i) + " has " + std::to_string(rows.back().size()) +
                    " tokens, more than the model's context of " + std::to_string(model->config().n_positions));
      }
    }
    const auto B = static_cast<std::int64_t>(rows.size());
    const auto [ids, mask] = model::pad_right(rows, 0);  // pads are masked, their id is never embedded
    const at::Tensor lp = sampling::token_logprobs(*model, ids.to(runtime.device), mask.to(runtime.device),
                                                   config.temperature).cpu();
    for (std::int64_t b = 0; b < B; ++b) {
      nlohmann::json token_lps = nlohmann::json::array();
      std::vector<std::string> pieces;
      double total = 0;
      for (std::size_t t = 0; t < rows[b].size(); ++t) {
        pieces.push_back(tokenizer->id_to_piece(rows[b][t]));
        if (t == 0) {
          token_lps.push_back(nullptr);  // the first token has no context to be predicted from
        } else {
          const double value = lp[b][t].item<double>();
          token_lps.push_back(value);
          total += value;
        }
      }
      results.push_back({{"text", texts[start + b]}, {"ids", rows[b]}, {"pieces", pieces}, {"logprobs", token_lps},
                         {"total", total}});
    }
  }
  save_config_next_to(args.output, config);
  write_output(args.output, results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace

void register_logprobs(CLI::App& app) {
  register_config_doc<LogprobsConfig>("logprobs");
  auto args = std::make_shared<LogprobsArgs>();
  CLI::App* cmd = app.add_subcommand("logprobs", "Per-token log-probabilities of texts (JSON out)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Model directory");
  cmd->add_option("--text", args->texts, "A text (repeatable)");
  cmd->add_option("--file", args->file, "File of texts: one per line, or JSON Lines with \"text\"");
  add_key_flag(*cmd, "--temperature,-t", "temperature", args->layers, "Divide logits by this (the paper: 0.7 for books)");
  add_key_flag(*cmd, "--batch-size,-b", "batch_size", args->layers, "Texts per batch");
  cmd->add_option("--output,-o", args->output, "Output JSON file (default: stdout)");
  cmd->callback([args] { run_logprobs(*args); });
}

}  // namespace rlhf::cli
