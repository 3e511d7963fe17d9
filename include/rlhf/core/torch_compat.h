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
inline at::Tensor attention(const at::Tensor& q, const at::Tensor& k_in, const at::Tensor& v_in,
                            const at::Tensor& allowed, double dropout_p = 0.0) {
  // Under autocast q is bf16/fp16 while a KV cache made from the fp32 weights holds fp32 (values that
  // came from q's dtype, so the cast back is exact); SDPA wants one dtype.
  const bool same = k_in.scalar_type() == q.scalar_type() && v_in.scalar_type() == q.scalar_type();
  const at::Tensor k = same ? k_in : k_in.to(q.scalar_type());
  const at::Tensor v = same ? v_in : v_in.to(q.scalar_type());
#if RLHF_TORCH_AT_LEAST(2, 0)
  return at::scaled_dot_product_attention(q, k, v, allowed, dropout_p);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(scale);  // [B, H, Tq, Tk]
  scores.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  // Softmax in fp32 even for half-precision inputs: the row max subtraction needs the range (float64
  // stays float64: tests compare with float64 references to 1e-10).
  const at::ScalarType softmax_dtype = q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor weights = at::softmax(scores, -1, softmax_dtype).to(q.scalar_type());
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

// ---- Autocast (mixed-precision training: include/rlhf/core/precision.h) -------------------------
// The C++ autocast API changed in LibTorch 2.4: 1.13 has per-backend functions (set_cpu_enabled,
// set_autocast_cpu_dtype, set_enabled + set_autocast_gpu_dtype for CUDA); 2.4+ takes the device type
// (set_autocast_enabled(type, on), set_autocast_dtype(type, dtype)) and deprecates the old ones.
namespace rlhf::compat {

// Runs the ops of its scope under autocast to `dtype` (bf16 or fp16) on `device`'s type, as
// `with torch.autocast(device_type, dtype)` does: matrix products in `dtype`, reductions that need the
// range in fp32, parameters untouched (they stay fp32 master weights; their gradients come back fp32).
// On exit it restores the previous state, and the outermost guard clears the cache of cast weights.
// dtype kFloat, or a device type without autocast here (only CPU and CUDA), makes it a no-op.
// Not copyable or movable: construct it in place (`AutocastGuard guard(device, dtype);`).
class AutocastGuard {
 public:
  AutocastGuard(const at::Device& device, at::ScalarType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

  bool active() const { return active_; }

 private:
  at::DeviceType device_type_;
  bool active_ = false;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

// The autocast state of a device type (CPU or CUDA), for tests and logs.
bool autocast_enabled(at::DeviceType device_type);
at::ScalarType autocast_dtype(at::DeviceType device_type);

}  // namespace rlhf::compat
