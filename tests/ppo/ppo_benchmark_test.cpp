// ppo::benchmark on a tiny shape (fast), and the full report as a disabled test:
//   build-ppo/rlhf_tests --gtest_also_run_disabled_tests --gtest_filter='PpoBenchmark.DISABLED_*'
#include <gtest/gtest.h>

#include <iostream>

#include "rlhf/model/gpt2_config.h"
#include "rlhf/ppo/benchmark.h"

namespace rlhf::ppo {
namespace {

model::Gpt2Config tiny_shape() {
  model::Gpt2Config c;  // tests/data/tiny-gpt2's shape, with room for 64 + 24 tokens
  c.vocab_size = 512;
  c.n_positions = 128;
  c.n_embd = 32;
  c.n_layer = 2;
  c.n_head = 4;
  return c;
}

TEST(PpoBenchmark, ReportsThroughputAndABreakdownThatAddsUp) {
  core::RuntimeConfig rc;
  rc.device = "cpu";
  rc.threads = 2;
  rc.log_level = "warn";
  const core::Runtime runtime = core::init_runtime(rc);
  BenchmarkOptions o;
  o.batch_size = 16;
  o.batches = 1;
  const auto r = benchmark(tiny_shape(), o, runtime);
  EXPECT_GT(r["episodes_per_s"].get<double>(), 0);
  double sum = 0;
  for (const auto& [key, value] : r["breakdown_s"].items()) sum += value.get<double>();
  EXPECT_NEAR(sum, r["seconds_per_batch"].get<double>(), 1e-6);
}

TEST(PpoBenchmark, DISABLED_TinyAnd124M) {
  core::RuntimeConfig rc;
  rc.device = std::getenv("RLHF_BENCH_DEVICE") ? std::getenv("RLHF_BENCH_DEVICE") : "auto";
  rc.precision = std::getenv("RLHF_BENCH_PRECISION") ? std::getenv("RLHF_BENCH_PRECISION") : "fp32";
  rc.log_level = "warn";
  const core::Runtime runtime = core::init_runtime(rc);
  const int batch = std::getenv("RLHF_BENCH_BATCH") ? std::atoi(std::getenv("RLHF_BENCH_BATCH")) : 64;
  const int micro = std::getenv("RLHF_BENCH_MICRO") ? std::atoi(std::getenv("RLHF_BENCH_MICRO")) : 0;
  BenchmarkOptions o;
  o.batch_size = batch;
  o.microbatch_size = micro;
  std::cout << benchmark(tiny_shape(), o, runtime).dump(2) << std::endl;
  o.batches = 1;
  std::cout << benchmark(model::named_gpt2_config("124M"), o, runtime).dump(2) << std::endl;
}

}  // namespace
}  // namespace rlhf::ppo
