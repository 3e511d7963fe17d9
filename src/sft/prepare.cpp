// Everything an sft run checks and loads before it trains, in the order that fails fastest.
#include <spdlog/spdlog.h>

#include "rlhf/model/checkpoint.h"
#include "rlhf/model/gpt2_config.h"
#include "rlhf/sft/init.h"
#include "rlhf/sft/trainer.h"
#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace fs = std::filesystem;
namespace {

enum class Kind { file, directory, either };

void require_path(const std::string& path, const std::string& key, Kind kind) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(key + ": " + path + " not found");
  const bool is_directory = fs::is_directory(path, ec);
  if (kind == Kind::directory && !is_directory) throw Error(key + ": " + path + " is not a directory");
  if (kind == Kind::file && is_directory) {
    throw Error(key + ": " + path + " is a directory, expected a file (only format fortune reads a directory)");
  }
}

// The tokenizer of a new or fine-tuned model: --tokenizer (cut to tokenizer_merges), else the model's.
std::shared_ptr<const tokenizer::Tokenizer> load_run_tokenizer(const SftConfig& config) {
  const std::string dir = config.tokenizer.empty() ? config.model : config.tokenizer;
  std::unique_ptr<tokenizer::Tokenizer> full = tokenizer::load_tokenizer(dir);
  if (config.tokenizer_merges <= 0) return std::shared_ptr<const tokenizer::Tokenizer>(std::move(full));
  const auto* bpe = dynamic_cast<const tokenizer::Gpt2BpeTokenizer*>(full.get());
  if (bpe == nullptr) {
    throw Error("tokenizer_merges: " + dir + " holds a " + full->kind() + " tokenizer; only a GPT-2 BPE can be cut");
  }
  auto cut = truncate_merges(*bpe, config.tokenizer_merges, dir);
  spdlog::info("tokenizer: {} with its first {} merges: {} tokens, <|endoftext|> = {}", dir, config.tokenizer_merges,
               cut->vocab_size(), cut->eos_id());
  return std::shared_ptr<const tokenizer::Tokenizer>(std::move(cut));
}

}  // namespace

SftParts prepare_sft(const SftConfig& config) {
  check_writable_directory(config.output, "output");
  // Format fortune (and auto, which then means fortune) also reads a directory of fortune files.
  const bool lm_directory = config.data.mode == "lm" && (config.data.format == "fortune" || config.data.format == "auto");
  const Kind data_kind = lm_directory ? Kind::either : Kind::file;
  require_path(config.data.path, "data.path", data_kind);
  if (!config.data.validation_path.empty()) {
    require_path(config.data.validation_path, "data.validation_path", data_kind);
  }

  SftParts parts;
  const fs::path checkpoint = fs::path(config.output) / "checkpoint";
  restore_interrupted_commit(checkpoint);  // a kill mid-swap left the previous checkpoint aside
  parts.from_checkpoint = fs::exists(checkpoint / "state.json") && fs::exists(checkpoint / "model" / "config.json");
  fs::path config_path;
  if (parts.from_checkpoint) {
    config_path = checkpoint / "model" / "config.json";
    spdlog::info("sft: resuming from {}", checkpoint.string());
  } else if (!config.model.empty()) {
    require_path(config.model, "model", Kind::directory);
    config_path = fs::path(config.model) / "config.json";
  } else {
    require_path(config.init_config, "init_config", Kind::file);
    require_path(config.tokenizer, "tokenizer", Kind::directory);
    config_path = config.init_config;
  }
  const model::Gpt2Config model_config = model::load_gpt2_config(config_path);
  parts.sequence_length = config.training.sequence_length > 0 ? config.training.sequence_length : model_config.n_positions;
  if (parts.sequence_length > model_config.n_positions) {
    throw Error("training.sequence_length: " + std::to_string(parts.sequence_length) +
                " exceeds the model's context, n_positions = " + std::to_string(model_config.n_positions) + " (" +
                config_path.string() + ")");
  }

  if (parts.from_checkpoint) {
    parts.tokenizer = tokenizer::load_tokenizer(checkpoint / "model");
    parts.model = model::load_gpt2(checkpoint / "model");
  } else if (!config.model.empty()) {
    parts.tokenizer = load_run_tokenizer(config);
    if (parts.tokenizer->vocab_size() > model_config.vocab_size) {
      const std::string dir = config.tokenizer.empty() ? config.model : config.tokenizer;
      throw Error("tokenizer: " + dir + " has " + std::to_string(parts.tokenizer->vocab_size()) +
                  " tokens, more than the model's vocab_size of " + std::to_string(model_config.vocab_size));
    }
    parts.model = model::load_gpt2(config.model);
  } else {
    parts.tokenizer = load_run_tokenizer(config);
    parts.model = init_gpt2(config.init_config, *parts.tokenizer);
    spdlog::info("sft: new GPT-2 from {}: {} layers, {} wide, {} parameters", config.init_config,
                 model_config.n_layer, model_config.n_embd, model::gpt2_parameter_count(parts.model->config()));
  }
  parts.data = load_sft_data(config.data, *parts.tokenizer, parts.sequence_length,
                             static_cast<std::uint64_t>(config.runtime.seed));
  return parts;
}

}  // namespace rlhf::sft
