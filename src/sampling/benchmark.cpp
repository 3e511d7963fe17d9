#include "rlhf/sampling/benchmark.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "rlhf/core/cuda_device.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/util/error.h"


namespace rlhf::sampling {
namespace {

void synchronize(const at::Device& device) {
  if (device.is_cuda()) {
    // Reading one value back waits for the queued kernels on the current stream.
    at::zeros({1}, at::TensorOptions().device(device)).cpu();
  }
}

// Median wall time in seconds of `iterations` runs of fn after `warmup` untimed runs.
double median_seconds(const std::function<void()>& fn, const BenchOptions& o, const at::Device& device) {
  for (int i = 0; i < o.warmup; ++i) fn();
  synchronize(device);
  std::vector<double> times;
  for (int i = 0; i < o.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    synchronize(device);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

nlohmann::json run_benchmark(model::Gpt2Impl& model, const BenchOptions& o) {
  if (o.batch_size < 1 || o.prompt_length < 1 || o.new_tokens < 1 || o.iterations < 1 || o.warmup < 0) {
    throw Error("bench: batch, prompt length, new tokens and iterations must be >= 1");
  }
  const auto total = static_cast<std::int64_t>(o.prompt_length) + o.new_tokens;
  if (total > model.config().n_positions) {
    throw Error("bench: prompt length + new tokens (" + std::to_string(total) + ") exceeds the context of " +
                std::to_string(model.config().n_positions));
  }
  at::NoGradGuard no_grad;
  const at::Device device = model.device();
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(device);
  const at::Tensor sequence = at::randint(model.config().vocab_size, {o.batch_size, total}, long_options);
  const at::Tensor full_mask = at::ones({o.batch_size, total}, long_options);
  const at::Tensor full_positions = model::positions_from_mask(full_mask);

  core::reset_peak_memory(device);
  const double forward_s = median_seconds(
      [&] { model.logits(model.forward(sequence, full_mask, full_positions)).sum(); }, o, device);
  const core::PeakMemory forward_memory = core::peak_memory(device);

  const at::Tensor prompts = sequence.narrow(1, 0, o.prompt_length);
  const at::Tensor prompt_mask = full_mask.narrow(1, 0, o.prompt_length);
  SamplingOptions sampling;
  sampling.temperature = o.temperature;
  sampling.max_new_tokens = o.new_tokens;
  core::reset_peak_memory(device);
  const double sampling_s = median_seconds([&] { sample(model, prompts, prompt_mask, sampling); }, o, device);
  const core::PeakMemory sampling_memory = core::peak_memory(device);

  const double forward_tokens = static_cast<double>(o.batch_size) * static_cast<double>(total);
  const double new_tokens = static_cast<double>(o.batch_size) * o.new_tokens;
  return {
      {"batch_size", o.batch_size},
      {"prompt_length", o.prompt_length},
      {"new_tokens", o.new_tokens},
      {"iterations", o.iterations},
      {"forward_ms", forward_s * 1e3},
      {"forward_tokens_per_s", forward_tokens / forward_s},
      {"sampling_ms", sampling_s * 1e3},
      {"sampling_tokens_per_s", new_tokens / sampling_s},
      {"sampling_note", "new tokens per second, prompt prefill included in the time"},
      {"forward_peak_memory", core::peak_memory_json(forward_memory)},
      {"sampling_peak_memory", core::peak_memory_json(sampling_memory)},
  };
}

}  // namespace rlhf::sampling
