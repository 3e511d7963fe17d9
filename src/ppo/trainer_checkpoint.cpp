// Checkpoints of a PPO run: output_dir/checkpoint/, written through StagedDirectory so a crash never
// leaves a half-written one.
//   state.json             format, version, next batch, KL controller, guard history, configuration
//   policy/                the policy in Hugging Face's layout, value head as v_head.weight/v_head.bias
//   optimizer.safetensors  Adam's step and moments
//   rng.safetensors        generator states ("cpu", "cuda.N")
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "rlhf/config/diff.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/model/run_state.h"
#include "rlhf/optim/adam.h"
#include "rlhf/ppo/trainer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::ppo {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "rlhf-ppo-checkpoint";
constexpr int kVersion = 1;

// Keeps the JSON Lines records of `path` whose "batch" is below `end` (a resumed run redoes the rest).
void cut_records(const fs::path& path, std::int64_t end) {
  if (!fs::exists(path)) return;
  std::istringstream in(read_text_file(path));
  std::string kept, line;
  std::size_t dropped = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      ++dropped;  // a line cut short by the stop
      continue;
    }
    if (record.contains("batch") && record["batch"].is_number_integer() && record["batch"].get<std::int64_t>() >= end) {
      ++dropped;
      continue;
    }
    kept += line + "\n";
  }
  if (dropped > 0) spdlog::info("{}: dropped {} records of batches not in the checkpoint", path.string(), dropped);
  write_file_atomic(path, kept);
}

}  // namespace

void PpoTrainer::save_checkpoint() {
  if (config_.output_dir.empty()) throw Error("save_checkpoint: no output_dir configured");
  // Never save a damaged policy (the loss checks stop the run first; this is the last line).
  model::check_finite_parameters(*parts_.policy);
  StagedDirectory staged(fs::path(config_.output_dir) / "checkpoint");
  parts_.policy->save(staged.path() / "policy", parts_.tokenizer.get());
  model::write_tensors(staged.path() / "optimizer.safetensors", optimizer_->state(), {{"format", kFormat}});
  model::save_generator_states(staged.path() / "rng.safetensors", kFormat);
  nlohmann::ordered_json state;
  state["format"] = kFormat;
  state["version"] = kVersion;
  state["next_batch"] = next_batch_;
  state["num_batches"] = num_batches();
  state["episodes"] = next_batch_ * config_.ppo.batch_size;
  state["kl_controller"] = kl_.state();
  state["trend"] = trend_.state();
  state["preflight_done"] = preflight_done_;
  state["skips"] = {{"batches", skips_.batches}, {"minibatches", skips_.minibatches}};
  if (scaler_.enabled()) state["loss_scaler"] = scaler_.state();  // fp16 training
  state["config"] = config::to_json(config_);
  write_file_atomic(staged.path() / "state.json",
                    state.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  staged.commit();
  spdlog::info("checkpoint: {} after batch {}", staged.target().string(), next_batch_);
}

void PpoTrainer::resume() {
  if (config_.output_dir.empty()) throw Error("resume: no output_dir configured");
  const fs::path dir = fs::path(config_.output_dir) / "checkpoint";
  restore_interrupted_commit(dir);  // a kill mid-swap left the previous checkpoint aside
  if (!fs::exists(dir / "state.json")) {
    throw Error(dir.string() + ": no checkpoint to resume from (state.json missing); run without --resume to start");
  }
  const nlohmann::json state = nlohmann::json::parse(read_text_file(dir / "state.json"), nullptr, false);
  if (state.is_discarded() || !state.is_object() || state.value("format", "") != kFormat) {
    throw_file_error((dir / "state.json").string(),
                     std::string("not a PPO checkpoint (expected format \"") + kFormat + "\")");
  }
  if (state.value("version", 0) != kVersion) {
    throw_file_error((dir / "state.json").string(),
                     "checkpoint version " + state.value("version", nlohmann::json()).dump() +
                         " is not supported (this build reads " + std::to_string(kVersion) + ")");
  }
  const fs::path state_path = dir / "state.json";
  try {
    for (const auto& change : config::changed_keys(state.at("config"), config::to_json(config_))) {
      const std::string& key = change.key;
      spdlog::warn(
          "resume: configuration key {} differs from the checkpoint's (the run will not match one that went "
          "straight through)",
          key);
    }
    kl_.load_state(state.at("kl_controller"));
    trend_.load_state(state.at("trend"));
    preflight_done_ = state.value("preflight_done", true);
    if (state.contains("skips")) {
      skips_.batches = state["skips"].value("batches", 0);
      skips_.minibatches = state["skips"].value("minibatches", 0);
    }
    if (scaler_.enabled() && state.contains("loss_scaler")) scaler_.load_state(state["loss_scaler"]);
    next_batch_ = state.at("next_batch").get<std::int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(state_path.string(), "damaged checkpoint state (" + model::json_error_summary(e) + "); remove " +
                                              dir.string() + " to start over");
  }

  // Weights, by parameter name, into the policy already placed on the device.
  Policy saved = load_policy(dir / "policy");
  {
    at::NoGradGuard no_grad;
    auto target = parts_.policy->named_parameters();
    for (const auto& item : saved->named_parameters()) {
      at::Tensor* dest = target.find(item.key());
      if (dest == nullptr || dest->sizes() != item.value().sizes()) {
        throw Error((dir / "policy").string() + ": parameter " + item.key() + " does not fit the policy");
      }
      dest->copy_(item.value());
    }
  }
  model::load_optimizer_state(*optimizer_, dir / "optimizer.safetensors");

  model::restore_generator_states(dir / "rng.safetensors");

  cut_records(fs::path(config_.output_dir) / "metrics.jsonl", next_batch_);
  cut_records(fs::path(config_.output_dir) / "samples.jsonl", next_batch_);
  spdlog::info("resume: {} at batch {}/{}, beta {}", dir.string(), next_batch_, num_batches(), kl_.value());
}

}  // namespace rlhf::ppo
