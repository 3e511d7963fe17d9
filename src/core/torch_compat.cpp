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
