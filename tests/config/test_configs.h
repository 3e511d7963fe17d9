// Configuration structs and helpers shared by the config tests.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "rlhf/config/config.h"
#include "rlhf/util/error.h"

namespace rlhf::config::testing {

struct RuntimeOptions {
  std::string device = "auto";  // auto | cpu | cuda
  int threads = 0;              // 0 = all cores
  std::int64_t seed = 1;
  std::string precision = "fp32";  // fp32 | bf16 | fp16

  template <class V>
  void visit(V& v) {
    v.field("device", device, "Where tensors live");
    v.field("threads", threads, "Intra-op threads; 0 = all cores", Range::at_least(0));
    v.field("seed", seed, "Seed of every generator");
    v.field("precision", precision, "Forward precision", OneOf{{"fp32", "bf16", "fp16"}});
  }
};

struct SamplingOptions {
  double temperature = 1.0;  // 0 = greedy
  int top_k = 0;             // 0 = all
  double top_p = 1.0;        // 1 = all
  int max_new_tokens = 24;
  bool stop_at_eos = false;
  std::int64_t eos_id = -1;

  template <class V>
  void visit(V& v) {
    v.field("temperature", temperature, "Logits are divided by it before sampling; 0 = greedy", Range::at_least(0.0));
    v.field("top_k", top_k, "Sample among the k most likely tokens; 0 = all", Range::at_least(0));
    v.field("top_p", top_p, "Nucleus mass | 1 = all", Range::in_open_closed(0.0, 1.0));
    v.field("max_new_tokens", max_new_tokens, "Tokens per prompt", Range::at_least(1));
    v.field("stop_at_eos", stop_at_eos, "Stop a row at end-of-text");
    v.field("eos_id", eos_id, "End-of-text id; -1 = the model's");
  }
  void check() const {
    if (top_k > 0 && top_p < 1.0) {
      throw Error("top_k and top_p cannot both be set (top_k=" + std::to_string(top_k) + ")");
    }
  }
};

struct InnerOptions {
  float scale = 0.5f;
  std::uint64_t steps = 100;
  std::optional<int> limit;
  std::optional<double> lr;
  std::optional<std::string> tag;
  std::optional<bool> flag;
  std::optional<std::int64_t> big;
  std::optional<float> ratio = 0.25f;

  template <class V>
  void visit(V& v) {
    v.field("scale", scale, "A float", Range::between(0.0, 1.0));
    v.field("steps", steps, "An unsigned count", Range::at_least(1));
    v.field("limit", limit, "Optional limit; null = none", Range::at_least(0));
    v.field("lr", lr, "Optional learning rate", Range::greater_than(0.0));
    v.field("tag", tag, "Optional tag", OneOf{{"x", "y"}});
    v.field("flag", flag, "Optional flag");
    v.field("big", big, "Optional int64");
    v.field("ratio", ratio, "Optional float");
  }
};

struct DeepOptions {
  InnerOptions inner;
  std::vector<std::string> names{"a", "b"};
  std::vector<int> ids{1, 2};
  std::vector<double> weights;
  std::vector<std::int64_t> big_ids{-1};
  double limit_inf = 1.0;

  template <class V>
  void visit(V& v) {
    v.section("inner", inner, "Third level");
    v.field("names", names, "Names from a fixed set", OneOf{{"a", "b", "c"}});
    v.field("ids", ids, "Positive ids", Range::at_least(1));
    v.field("weights", weights, "Weights");
    v.field("big_ids", big_ids, "64-bit ids");
    v.field("limit_inf", limit_inf, "A double that may be infinite");
  }
};

struct TestConfig {
  RuntimeOptions runtime;
  std::string model;
  SamplingOptions sampling;
  int batch_size = 16;
  std::string size = "124M";
  DeepOptions deep;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, precision");
    v.field("model", model, "Model directory");
    v.section("sampling", sampling, "How continuations are drawn");
    v.field("batch_size", batch_size, "Prompts sampled together", Range::at_least(1));
    v.field("size", size, "GPT-2 size", OneOf{{"124M", "gpt2", "355M"}});
    v.section("deep", deep, "Nested sections");
  }
  void check() const {
    if (batch_size > 1000 && model.empty()) throw Error("batch_size > 1000 needs a model");
  }
};

// The message of the rlhf::Error that `f` throws; "no error" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A fresh directory for one test's files.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("rlhf_config_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::filesystem::path write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace rlhf::config::testing
