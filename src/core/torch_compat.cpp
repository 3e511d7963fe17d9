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
