// The one place that knows about differences between LibTorch versions (Debian's 1.13 on CPU,
// 2.x with CUDA on GPU machines). Everything else calls these wrappers.
#pragma once

#include <ATen/ATen.h>
#include <torch/version.h>

#include <optional>

#define RLHF_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace rlhf::compat {

// Scaled dot-product attention. q: [B, H, Tq, D], k/v: [B, H, Tk, D], allowed: bool [B, 1, Tq, Tk]
// (true = the query may attend to the key). Every row must allow at least one key (the caller
// guarantees it), so no row is all -inf. Returns [B, H, Tq, D]. dropout_p > 0 drops attention
// probabilities (training only: the caller passes 0 in eval mode).
// On 2.x this is at::scaled_dot_product_attention, which picks the fused kernels on CUDA where the
// mask allows; on 1.13 it is the plain math path.
inline at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed,
                            double dropout_p = 0.0) {
#if RLHF_TORCH_AT_LEAST(2, 0)
  return at::scaled_dot_product_attention(q, k, v, allowed, dropout_p);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(scale);  // [B, H, Tq, Tk]
  scores.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  // Softmax in fp32 even for half-precision inputs: the row max subtraction needs the range.
  at::Tensor weights = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  if (dropout_p > 0.0) weights = at::dropout(weights, dropout_p, /*train=*/true);
  return at::matmul(weights, v);
#endif
}

// Whether CUDA can be used by this build and machine.
bool cuda_available();

// Intra-op threads.
void set_num_threads(int n);
int get_num_threads();

// Seeds every default generator (CPU and, when present, CUDA).
void manual_seed(std::uint64_t seed);

}  // namespace rlhf::compat

// ---- Random generator states and device synchronization (PPO checkpoints and timings) ----------
#include <vector>

namespace rlhf::compat {

// The default CPU generator's state as a uint8 CPU tensor (Generator::get_state, in 1.13 and 2.x),
// and its inverse. Restoring it makes the CPU random stream continue exactly where it was saved.
at::Tensor cpu_generator_state();
void set_cpu_generator_state(const at::Tensor& state);

// The same for every CUDA device's default generator (empty without CUDA).
std::vector<at::Tensor> cuda_generator_states();
void set_cuda_generator_states(const std::vector<at::Tensor>& states);

// Waits for the device's queued work (a no-op on the CPU), so wall-clock timings mean something.
void synchronize(const at::Device& device);

}  // namespace rlhf::compat
