#include "rlhf/core/torch_compat.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/utils.h>

namespace rlhf::compat {

bool cuda_available() { return torch::cuda::is_available(); }

void set_num_threads(int n) { at::set_num_threads(n); }

int get_num_threads() { return at::get_num_threads(); }

void manual_seed(std::uint64_t seed) { torch::manual_seed(seed); }

}  // namespace rlhf::compat

// ---- Random generator states and device synchronization ----------------------------------------
#include <ATen/core/Generator.h>

#include <mutex>

namespace rlhf::compat {
namespace {

at::Tensor generator_state(at::Generator generator) {  // a handle: copies share the generator
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(at::Generator generator, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace

at::Tensor cpu_generator_state() { return generator_state(at::detail::getDefaultCPUGenerator()); }

void set_cpu_generator_state(const at::Tensor& state) {
  set_generator_state(at::detail::getDefaultCPUGenerator(), state.to(at::kCPU, at::kByte).contiguous());
}

std::vector<at::Tensor> cuda_generator_states() {
  std::vector<at::Tensor> states;
  if (!cuda_available()) return states;
  const auto n = static_cast<int>(torch::cuda::device_count());
  for (int i = 0; i < n; ++i) {
    states.push_back(generator_state(at::globalContext().defaultGenerator(at::Device(at::kCUDA, i))));
  }
  return states;
}

void set_cuda_generator_states(const std::vector<at::Tensor>& states) {
  if (states.empty() || !cuda_available()) return;
  const auto n = std::min<std::size_t>(states.size(), torch::cuda::device_count());
  for (std::size_t i = 0; i < n; ++i) {
    set_generator_state(at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<int>(i))),
                        states[i].to(at::kCPU, at::kByte).contiguous());
  }
}

void synchronize(const at::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace rlhf::compat

// ---- Autocast ---------------------------------------------------------------------------------------
#include <ATen/autocast_mode.h>

namespace rlhf::compat {
namespace {

bool autocast_supported(at::DeviceType type) { return type == at::kCPU || type == at::kCUDA; }

void set_autocast(at::DeviceType type, bool enabled, at::ScalarType dtype) {
#if RLHF_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == at::kCPU) {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  } else {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  }
#endif
}

}  // namespace

bool autocast_enabled(at::DeviceType type) {
  if (!autocast_supported(type)) return false;
#if RLHF_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

at::ScalarType autocast_dtype(at::DeviceType type) {
  if (!autocast_supported(type)) return at::kFloat;
#if RLHF_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(type);
#else
  return type == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

AutocastGuard::AutocastGuard(const at::Device& device, at::ScalarType dtype) : device_type_(device.type()) {
  if (dtype == at::kFloat || !autocast_supported(device_type_)) return;
  TORCH_CHECK(dtype == at::kBFloat16 || dtype == at::kHalf, "AutocastGuard: dtype must be bf16, fp16 or fp32");
  was_enabled_ = autocast_enabled(device_type_);
  previous_dtype_ = autocast_dtype(device_type_);
  set_autocast(device_type_, true, dtype);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // As torch.autocast's __exit__: the outermost scope drops the cast copies of the weights (they
  // would be stale after the optimizer step).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(device_type_, was_enabled_, previous_dtype_);
}

}  // namespace rlhf::compat
