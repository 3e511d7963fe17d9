#include "rlhf/core/runtime.h"

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <cstdlib>
#include <thread>

#include "rlhf/core/precision.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/util/error.h"

namespace rlhf::core {

Precision parse_precision(const std::string& name, const std::string& key) {
  if (name == "fp32") return Precision::FP32;
  if (name == "bf16") return Precision::BF16;
  if (name == "fp16") return Precision::FP16;
  throw Error(key + ": expected fp32, bf16 or fp16, got \"" + name + "\"");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::BF16: return "bf16";
    case Precision::FP16: return "fp16";
    case Precision::FP32: break;
  }
  return "fp32";
}

at::ScalarType precision_dtype(Precision p) {
  switch (p) {
    case Precision::BF16: return at::kBFloat16;
    case Precision::FP16: return at::kHalf;
    case Precision::FP32: break;
  }
  return at::kFloat;
}

at::Device resolve_device(const std::string& name) {
  if (name == "auto") return compat::cuda_available() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  if (name == "cpu") return at::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (name.size() > 5) {
      const std::string digits = name.substr(5);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 3) {
        throw Error("device: expected cuda:N with N a GPU index, got \"" + name + "\"");
      }
      index = std::stoi(digits);
    }
    if (!compat::cuda_available()) {
      throw Error("device: \"" + name + "\" requested but this build or machine has no CUDA (use --device cpu)");
    }
    return at::Device(at::kCUDA, static_cast<at::DeviceIndex>(index));
  }
  throw Error("device: expected auto, cpu, cuda or cuda:N, got \"" + name + "\"");
}

int default_thread_count() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n < 4096) return static_cast<int>(n);
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

static spdlog::level::level_enum parse_log_level(const std::string& name) {
  const auto level = spdlog::level::from_str(name);
  // from_str returns `off` for unknown names; only accept "off" when spelled out.
  if (level == spdlog::level::off && name != "off") {
    throw Error("log_level: expected trace, debug, info, warn, error or off, got \"" + name + "\"");
  }
  return level;
}

Runtime init_runtime(const RuntimeConfig& config) {
  spdlog::set_level(parse_log_level(config.log_level));
  if (config.threads < 0) throw Error("threads: must be >= 0, got " + std::to_string(config.threads));
  if (config.seed < 0) throw Error("seed: must be >= 0, got " + std::to_string(config.seed));
  Runtime rt;
  rt.precision = parse_precision(config.precision);
  rt.train_precision = parse_precision(config.train_precision, "train_precision");
  rt.device = resolve_device(config.device);
  if (rt.train_precision == Precision::FP16 && rt.device.is_cpu()) {
    throw Error("train_precision: fp16 needs a CUDA device (use bf16 or fp32 on the CPU)");
  }
  rt.threads = config.threads > 0 ? config.threads : default_thread_count();
  compat::set_num_threads(rt.threads);
  rt.seed = static_cast<std::uint64_t>(config.seed);
  compat::manual_seed(rt.seed);
  spdlog::info("runtime: device {}, {} threads, seed {}, precision {} (training {}), LibTorch {}", rt.device.str(),
               rt.threads, rt.seed, config.precision, config.train_precision, TORCH_VERSION);
  return rt;
}

}  // namespace rlhf::core
