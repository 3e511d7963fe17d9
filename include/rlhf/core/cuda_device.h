// What a run on a GPU needs to report and check beyond the CPU path: peak memory (the CUDA caching
// allocator's counters on a GPU, the resident set size on the CPU) and a guard that turns every host
// synchronisation inside a region into an error (c10::cuda sync-debug mode). CUDA-only code lives in
// src/core/cuda_device.cpp under RLHF_WITH_CUDA; a CPU build compiles the fallbacks.
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace rlhf::core {

// Peak memory since the last reset_peak_memory(device). On CUDA: the caching allocator's peak bytes
// allocated to tensors and reserved from the driver (reserved >= allocated). On the CPU: the process's
// current resident set size (VmRSS) and its peak since the process started (VmHWM; Linux cannot reset it).
struct PeakMemory {
  std::string device;               // "cuda:0", or "cpu"
  std::string source;               // "cuda_caching_allocator" or "proc_self_status"
  std::int64_t allocated_bytes = 0; // CUDA: peak bytes in tensors; CPU: current resident set size
  std::int64_t reserved_bytes = 0;  // CUDA: peak bytes reserved; CPU: peak resident set size (VmHWM)

  // The one figure for a log line: the tensors' peak on CUDA, the peak resident set size on the CPU.
  std::int64_t peak_bytes() const { return source == "cuda_caching_allocator" ? allocated_bytes : reserved_bytes; }
};

PeakMemory peak_memory(const at::Device& device);
void reset_peak_memory(const at::Device& device);  // a no-op on the CPU
// {"device", "source", "peak_allocated_mib", "peak_reserved_mib"} on CUDA, {"device", "source", "rss_mib",
// "peak_rss_mib"} on the CPU; MiB = 2^20 bytes.
nlohmann::ordered_json peak_memory_json(const PeakMemory& memory);

// While alive, every synchronising CUDA call (a device-to-host copy, .item(), a blocking host-to-device
// copy, cudaStreamSynchronize through PyTorch) throws c10::Error "called a synchronizing CUDA operation"
// when `forbid` is true; with `forbid` false it allows them again inside an outer guard. Restores the
// previous mode when destroyed. Process-wide (not per thread), like PyTorch's own setting. A no-op on
// builds without CUDA, so code under it runs unchanged (and unchecked) on the CPU.
class SyncDebugGuard {
 public:
  explicit SyncDebugGuard(bool forbid);
  ~SyncDebugGuard();
  SyncDebugGuard(const SyncDebugGuard&) = delete;
  SyncDebugGuard& operator=(const SyncDebugGuard&) = delete;

 private:
  int previous_ = 0;
};

// Whether this build can check host synchronisation (compiled with RLHF_WITH_CUDA).
bool sync_debug_supported();

}  // namespace rlhf::core
