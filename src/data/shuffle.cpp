#include "rlhf/data/shuffle.h"

#include <numeric>
#include <string>
#include <utility>

#include "rlhf/util/error.h"

namespace rlhf::data {

namespace {

constexpr std::uint32_t kMatrixA = 0x9908b0dfU;
constexpr std::uint32_t kUpperMask = 0x80000000U;
constexpr std::uint32_t kLowerMask = 0x7fffffffU;
constexpr int kM = 397;

}  // namespace

PythonRandom::PythonRandom(std::uint64_t seed) {
  // init_genrand(19650218), then init_by_array(key), as CPython's random_seed does.
  state_[0] = 19650218U;
  for (int i = 1; i < kN; ++i) {
    const std::uint32_t prev = state_[i - 1];
    state_[i] = 1812433253U * (prev ^ (prev >> 30)) + static_cast<std::uint32_t>(i);
  }
  std::vector<std::uint32_t> key;
  for (std::uint64_t rest = seed; rest != 0; rest >>= 32) key.push_back(static_cast<std::uint32_t>(rest));
  if (key.empty()) key.push_back(0);

  const int key_length = static_cast<int>(key.size());
  int i = 1;
  int j = 0;
  for (int k = (kN > key_length ? kN : key_length); k > 0; --k) {
    const std::uint32_t prev = state_[i - 1];
    state_[i] = (state_[i] ^ ((prev ^ (prev >> 30)) * 1664525U)) + key[j] + static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      state_[0] = state_[kN - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    const std::uint32_t prev = state_[i - 1];
    state_[i] = (state_[i] ^ ((prev ^ (prev >> 30)) * 1566083941U)) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= kN) {
      state_[0] = state_[kN - 1];
      i = 1;
    }
  }
  state_[0] = 0x80000000U;
  index_ = kN;
}

void PythonRandom::twist() {
  for (int k = 0; k < kN; ++k) {
    const std::uint32_t y = (state_[k] & kUpperMask) | (state_[(k + 1) % kN] & kLowerMask);
    state_[k] = state_[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1U) != 0 ? kMatrixA : 0U);
  }
  index_ = 0;
}

std::uint32_t PythonRandom::next_u32() {
  if (index_ >= kN) twist();
  std::uint32_t y = state_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

std::uint32_t PythonRandom::below(std::uint32_t n) {
  int bits = 0;  // n.bit_length()
  for (std::uint32_t rest = n; rest != 0; rest >>= 1) ++bits;
  for (;;) {
    const std::uint32_t r = next_u32() >> (32 - bits);  // getrandbits(bits)
    if (r < n) return r;
  }
}

std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed) {
  if (static_cast<std::uint64_t>(n) >= (std::uint64_t{1} << 32)) {
    throw Error("cannot shuffle " + std::to_string(n) + " items: at most 2^32 - 1 are supported");
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  PythonRandom random(seed);
  python_shuffle(order, random);
  return order;
}

}  // namespace rlhf::data
