#include "common.h"

#include "rlhf/model/checkpoint.h"
#include "rlhf/util/error.h"

namespace rlhf::cli {

void add_config_options(CLI::App& cmd, ConfigLayers& layers) {
  cmd.add_option("--config", layers.file, "JSON configuration file (defaults < file < --set < flags)");
  cmd.add_option("--set", layers.sets, "Override one key: section.key=value (repeatable)")->take_all();
}

void add_key_flag(CLI::App& cmd, const std::string& flag, const std::string& key, ConfigLayers& layers,
                  const std::string& help) {
  cmd.add_option_function<std::string>(
      flag, [&layers, key](const std::string& value) { layers.flags.push_back(key + "=" + value); },
      help + " [" + key + "]");
}

void add_bool_flag(CLI::App& cmd, const std::string& flag, const std::string& key, ConfigLayers& layers,
                   const std::string& help) {
  cmd.add_flag_callback(flag, [&layers, key] { layers.flags.push_back(key + "=true"); }, help + " [" + key + "]");
}

void add_runtime_flags(CLI::App& cmd, ConfigLayers& layers) {
  add_key_flag(cmd, "--device", "runtime.device", layers, "auto, cpu, cuda or cuda:N");
  add_key_flag(cmd, "--threads", "runtime.threads", layers, "CPU threads (0 = $OMP_NUM_THREADS or all cores)");
  add_key_flag(cmd, "--seed", "runtime.seed", layers, "Random seed");
  add_key_flag(cmd, "--log-level", "runtime.log_level", layers, "trace, debug, info, warn, error, off");
  add_key_flag(cmd, "--precision", "runtime.precision", layers, "fp32, bf16 or fp16 for inference passes");
}

void place_for_inference(model::Gpt2Impl& model, const core::Runtime& runtime) {
  const at::ScalarType dtype = core::precision_dtype(runtime.precision);
  if (dtype == at::kHalf && runtime.device.is_cpu()) {
    throw Error("precision: fp16 is not supported on the CPU (use fp32 or bf16)");
  }
  model.to(runtime.device, dtype);
  model.eval();
}

model::Gpt2 load_inference_model(const std::filesystem::path& dir, const core::Runtime& runtime) {
  model::Gpt2 model = model::load_gpt2(dir);
  place_for_inference(*model, runtime);
  return model;
}

}  // namespace rlhf::cli
