#include "rlhf/sft/config.h"

#include <algorithm>
#include <cmath>

#include "rlhf/util/error.h"

namespace rlhf::sft {

void SftConfig::check() const {
  if (model.empty() && init_config.empty()) {
    throw Error("model: no model given: fine-tune one (--model DIR) or make a new one (--init-config CONFIG_JSON)");
  }
  if (!model.empty() && !init_config.empty()) {
    throw Error("model and init_config are both set (" + model + ", " + init_config +
                "): give one, --model to fine-tune or --init-config to start from random weights");
  }
  if (!init_config.empty() && tokenizer.empty()) {
    throw Error("tokenizer: init_config needs a tokenizer directory (--tokenizer DIR with vocab.json + merges.txt "
                "or encoder.json + vocab.bpe)");
  }
  if (tokenizer_merges > 0 && init_config.empty()) {
    throw Error("tokenizer_merges: only with init_config (a pretrained model's vocabulary cannot shrink)");
  }
  if (data.path.empty()) throw Error("data.path: no training data given (--data FILE)");
  if (output.empty()) throw Error("output: no output directory given (--output DIR)");
  if (data.mode == "pairs" && data.format != "auto" && data.format != "jsonl" && data.format != "json") {
    throw Error("data.format: mode pairs reads jsonl or json, got \"" + data.format + "\"");
  }
  if (training.microbatch_size > training.batch_size) {
    throw Error("training.microbatch_size (" + std::to_string(training.microbatch_size) +
                ") is larger than training.batch_size (" + std::to_string(training.batch_size) + ")");
  }
}

double effective_lr(const SftConfig& config) {
  if (config.training.lr) return *config.training.lr;
  return config.init_config.empty() ? 1e-4 : 1e-3;
}

double effective_dropout(const SftConfig& config) {
  if (config.training.dropout) return *config.training.dropout;
  return config.data.mode == "pairs" ? 0.1 : 0.0;
}

std::int64_t effective_warmup_steps(const SftTrainingOptions& options, std::int64_t total_steps) {
  if (options.warmup_steps) return std::min<std::int64_t>(*options.warmup_steps, total_steps);
  return static_cast<std::int64_t>(std::llround(0.05 * static_cast<double>(total_steps)));
}

}  // namespace rlhf::sft
