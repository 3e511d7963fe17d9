// Seeded shuffles that give the same order on every platform and match Python's `random` module, so
// that `random.seed(seed); random.shuffle(items)` in the OpenAI code (books, tldr) picks the very same
// order here. std::shuffle and std::uniform_int_distribution are implementation-defined; this is not.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rlhf::data {

// MT19937 seeded as CPython's random.seed(int) seeds it (init_by_array on the 32-bit words of the
// seed, least significant first; 0 gives the key [0]).
class PythonRandom {
 public:
  explicit PythonRandom(std::uint64_t seed);

  std::uint32_t next_u32();              // random.getrandbits(32)
  std::uint32_t below(std::uint32_t n);  // random._randbelow(n) for 1 <= n < 2^32: rejection, no bias

 private:
  void twist();

  static constexpr int kN = 624;
  std::array<std::uint32_t, kN> state_{};
  int index_ = kN;
};

// Python's `random.shuffle(items)` drawing from `random` (items.size() < 2^32).
template <class T>
void python_shuffle(std::vector<T>& items, PythonRandom& random) {
  for (std::size_t i = items.size(); i-- > 1;) {  // Python: for i in reversed(range(1, n)): j = randbelow(i + 1)
    std::swap(items[i], items[random.below(static_cast<std::uint32_t>(i + 1))]);
  }
}

// [0, 1, ..., n-1] after `random.seed(seed); random.shuffle(order)`. Throws rlhf::Error if n >= 2^32.
std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed);

}  // namespace rlhf::data
