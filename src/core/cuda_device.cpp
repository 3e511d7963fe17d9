#include "rlhf/core/cuda_device.h"

#include <fstream>
#include <string>

#ifdef RLHF_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace rlhf::core {
namespace {

// A "VmRSS:   12345 kB" line of /proc/self/status, in bytes; 0 when absent (not Linux).
std::int64_t proc_status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    return std::stoll(line.substr(key.size() + 1)) * 1024;  // the kernel writes kB (KiB)
  }
  return 0;
}

}  // namespace

PeakMemory peak_memory(const at::Device& device) {
  PeakMemory out;
  out.device = device.str();
#ifdef RLHF_WITH_CUDA
  if (device.is_cuda()) {
    // The stat types moved between namespaces across 2.x (c10::cuda::CUDACachingAllocator, then
    // c10::CachingDeviceAllocator / c10::CachingAllocator); auto and index 0 (StatType::AGGREGATE, all
    // pools together) stay valid in all of them.
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    out.source = "cuda_caching_allocator";
    out.allocated_bytes = stats.allocated_bytes[0].peak;
    out.reserved_bytes = stats.reserved_bytes[0].peak;
    return out;
  }
#endif
  out.source = "proc_self_status";
  out.allocated_bytes = proc_status_bytes("VmRSS");
  out.reserved_bytes = proc_status_bytes("VmHWM");
  return out;
}

void reset_peak_memory(const at::Device& device) {
#ifdef RLHF_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

nlohmann::ordered_json peak_memory_json(const PeakMemory& m) {
  constexpr double mib = 1024.0 * 1024.0;
  nlohmann::ordered_json out;
  out["device"] = m.device;
  out["source"] = m.source;
  if (m.source == "cuda_caching_allocator") {
    out["peak_allocated_mib"] = static_cast<double>(m.allocated_bytes) / mib;
    out["peak_reserved_mib"] = static_cast<double>(m.reserved_bytes) / mib;
  } else {
    out["rss_mib"] = static_cast<double>(m.allocated_bytes) / mib;
    out["peak_rss_mib"] = static_cast<double>(m.reserved_bytes) / mib;
  }
  return out;
}

#ifdef RLHF_WITH_CUDA
SyncDebugGuard::SyncDebugGuard(bool forbid) {
  auto& state = c10::cuda::warning_state();
  previous_ = static_cast<int>(state.get_sync_debug_mode());
  state.set_sync_debug_mode(forbid ? c10::cuda::SyncDebugMode::L_ERROR : c10::cuda::SyncDebugMode::L_DISABLED);
}

SyncDebugGuard::~SyncDebugGuard() {
  c10::cuda::warning_state().set_sync_debug_mode(static_cast<c10::cuda::SyncDebugMode>(previous_));
}

bool sync_debug_supported() { return true; }
#else
SyncDebugGuard::SyncDebugGuard(bool) {}
SyncDebugGuard::~SyncDebugGuard() = default;
bool sync_debug_supported() { return false; }
#endif

}  // namespace rlhf::core
