// Small helpers shared by the binary parsers: a non-owning byte range, little-endian loads and
// overflow-checked arithmetic. Every offset read from a file goes through `fits` before use, so a
// corrupt or hostile file can make a parser throw but never read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rlhf::formats {

struct ByteSpan {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  ByteSpan sub(std::size_t offset, std::size_t length) const { return {data + offset, length}; }
  std::string str() const { return std::string(reinterpret_cast<const char*>(data), size); }
};

// True if [offset, offset + length) lies inside a buffer of `size` bytes, without overflowing.
inline bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

inline std::uint16_t load_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

inline std::uint32_t load_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

inline std::uint64_t load_u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load_u32(p)) | (static_cast<std::uint64_t>(load_u32(p + 4)) << 32);
}

// Checked arithmetic: false on overflow (then `out` is unspecified).
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}
inline bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

}  // namespace rlhf::formats
