// The options every subcommand shares (--device, --threads, --seed, --log-level, --precision,
// --train-precision) and the process-wide set-up they drive.
#pragma once

#include <ATen/ATen.h>

#include "rlhf/config/constraints.h"

#include <cstdint>
#include <string>

namespace rlhf::core {

enum class Precision { FP32, BF16, FP16 };

struct RuntimeConfig {
  std::string device = "auto";    // auto | cpu | cuda | cuda:N ; auto = cuda:0 when available
  int threads = 0;                // intra-op threads; 0 = OMP_NUM_THREADS if set, else all cores
  std::int64_t seed = 1;          // the paper's code uses seed 1
  std::string log_level = "info"; // trace | debug | info | warn | error | off
  std::string precision = "fp32"; // fp32 | bf16 | fp16: dtype of forward passes that need no gradients
  std::string train_precision = "fp32";  // fp32 | bf16 | fp16: autocast of training passes (core/precision.h)

  template <class V>
  void visit(V& v) {
    v.field("device", device, "Where tensors live: auto, cpu, cuda or cuda:N (auto picks cuda:0 when available)");
    v.field("threads", threads, "Intra-op CPU threads; 0 = $OMP_NUM_THREADS, else the number of cores");
    v.field("seed", seed, "Seed of every random generator");
    v.field("log_level", log_level, "Console log level: trace, debug, info, warn, error, off");
    v.field("precision", precision, "Precision of inference-only forward passes: fp32, bf16 or fp16");
    v.field("train_precision", train_precision,
            "Precision of the passes that train (and of the rollout and scoring passes they are compared with): "
            "fp32, bf16 (autocast) or fp16 (autocast with dynamic loss scaling); weights and Adam state stay fp32",
            config::OneOf{{"fp32", "bf16", "fp16"}});
  }
};

// Parses "fp32" / "bf16" / "fp16"; throws rlhf::Error naming `key` otherwise.
Precision parse_precision(const std::string& name, const std::string& key = "precision");
at::ScalarType precision_dtype(Precision p);

// Parses and checks a device string ("auto" resolves to cuda:0 or cpu). Throws rlhf::Error for a
// malformed string or a CUDA device on a build or machine without one.
at::Device resolve_device(const std::string& name);

// The thread count --threads=0 means: $OMP_NUM_THREADS when set and valid, else hardware cores.
int default_thread_count();

// Applies a RuntimeConfig to the process: log level, threads, seeds. Returns the resolved device.
struct Runtime {
  at::Device device = at::kCPU;
  Precision precision = Precision::FP32;        // inference-only passes
  Precision train_precision = Precision::FP32;  // training passes (core/precision.h)
  int threads = 1;
  std::uint64_t seed = 1;
};
Runtime init_runtime(const RuntimeConfig& config);

}  // namespace rlhf::core
