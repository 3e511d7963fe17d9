// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON describing each tensor, then one data buffer that the tensors
// cover exactly, without holes or overlaps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "rlhf/formats/bytes.h"
#include "rlhf/formats/tensor_file.h"

namespace rlhf::formats {

// Headers above this size are rejected before any allocation: the reference implementation uses
// the same bound, and a real header (one entry per tensor) is a few hundred kilobytes at most.
inline constexpr std::uint64_t kMaxSafetensorsHeader = 100'000'000;

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  const void* data;    // contiguous, row-major
  std::size_t nbytes;  // must equal prod(shape) * dtype_size(dtype)
};

// Writes a safetensors file atomically (temporary file, then rename). The tensors keep the given
// order; "__metadata__" is written first and only if non-empty; the header is padded with spaces
// to a multiple of 8 bytes like the reference writer, so the data buffer starts 8-aligned.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata);

// The bytes write_safetensors would put before the data: length prefix plus padded JSON header.
std::string safetensors_header(const std::string& source, const std::vector<TensorToWrite>& tensors,
                               const std::map<std::string, std::string>& metadata);

// Parses and validates a whole safetensors file held in `bytes`; views point into `bytes`.
TensorFileContents parse_safetensors(const std::string& source, ByteSpan bytes);

}  // namespace rlhf::formats
