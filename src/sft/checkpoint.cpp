// Checkpoints of an sft run: OUTPUT/checkpoint/, written through StagedDirectory so a crash never
// leaves a half-written one.
//   state.json             format, version, step, total_steps, tokens seen, configuration
//   model/                 the model in Hugging Face's layout (with its tokenizer)
//   optimizer.safetensors  Adam's step and moments
//   rng.safetensors        generator states ("cpu", "cuda.N"), for dropout
#include <spdlog/spdlog.h>

#include <sstream>

#include "rlhf/config/diff.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/model/run_state.h"
#include "rlhf/sft/trainer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "rlhf-sft-checkpoint";
constexpr int kVersion = 1;

// Keeps the records of metrics.jsonl up to `step` (a resumed run redoes the later ones). A checkpoint
// of the finished run comes before the final validation, which the resumed run redoes too.
void cut_metrics(const fs::path& path, std::int64_t step, bool finished) {
  if (!fs::exists(path)) return;
  std::istringstream in(read_text_file(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded() || !record.is_object()) continue;  // a line cut short by the stop
    if (record.value("step", std::int64_t{0}) > step) continue;
    if (finished && record.value("step", std::int64_t{0}) == step && record.contains("eval")) continue;
    kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

}  // namespace

void SftTrainer::save_checkpoint() {
  model::check_finite_parameters(*parts_.model);
  StagedDirectory staged(fs::path(config_.output) / "checkpoint");
  model::save_gpt2(*parts_.model, staged.path() / "model", parts_.tokenizer.get());
  model::write_tensors(staged.path() / "optimizer.safetensors", adam_->state(), {{"format", kFormat}});
  model::save_generator_states(staged.path() / "rng.safetensors", kFormat);
  nlohmann::ordered_json state;
  state["format"] = kFormat;
  state["version"] = kVersion;
  state["step"] = step_;
  state["total_steps"] = total_steps_;
  state["tokens"] = tokens_seen_;
  state["train_loss_last_step"] = last_train_loss_;
  state["config"] = config::to_json(config_);
  write_file_atomic(staged.path() / "state.json",
                    state.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  staged.commit();
  spdlog::info("checkpoint: {} after step {}", staged.target().string(), step_);
}

bool SftTrainer::resume() {
  const fs::path dir = fs::path(config_.output) / "checkpoint";
  const fs::path state_path = dir / "state.json";
  if (!fs::exists(state_path)) return false;
  const auto state = nlohmann::json::parse(read_text_file(state_path), nullptr, false);
  if (state.is_discarded() || !state.is_object() || state.value("format", "") != kFormat) {
    throw_file_error(state_path.string(), std::string("not an sft checkpoint (expected format \"") + kFormat +
                                              "\"); remove " + dir.string() + " to start over");
  }
  if (state.value("version", 0) != kVersion) {
    throw_file_error(state_path.string(), "checkpoint version " + state.value("version", nlohmann::json()).dump() +
                                              " is not supported (this build reads " + std::to_string(kVersion) + ")");
  }
  try {
    for (const auto& change : config::changed_keys(state.at("config"), config::to_json(config_))) {
      const std::string& key = change.key;
      if (key.rfind("runtime.", 0) == 0 && key != "runtime.seed") continue;  // device, threads, logging
      spdlog::warn("resume: configuration key {} differs from the checkpoint's (the run will not match one that "
                   "went straight through)",
                   key);
    }
    step_ = state.at("step").get<std::int64_t>();
    tokens_seen_ = state.value("tokens", std::int64_t{0});
    last_train_loss_ = state.value("train_loss_last_step", 0.0);
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(state_path.string(), "damaged checkpoint state (" + model::json_error_summary(e) + "); remove " +
                                              dir.string() + " to start over");
  }
  model::load_optimizer_state(*adam_, dir / "optimizer.safetensors");
  model::restore_generator_states(dir / "rng.safetensors");
  cut_metrics(fs::path(config_.output) / "metrics.jsonl", step_, step_ >= total_steps_);
  spdlog::info("resume: {} at step {}/{}", dir.string(), step_, total_steps_);
  return true;
}

}  // namespace rlhf::sft
