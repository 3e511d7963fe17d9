// The seeded shuffle against CPython 3.11: random.seed(s); [random.getrandbits(32) for _ in range(3)]
// and random.shuffle(list(range(n))), values printed by /usr/bin/python3.
#include "rlhf/data/shuffle.h"

#include "dataset_test_util.h"

namespace rlhf::data {
namespace {

TEST(PythonRandom, MatchesCPythonGetrandbits) {
  const std::vector<std::pair<std::uint64_t, std::vector<std::uint32_t>>> cases = {
      {0, {3626764237u, 1654615998u, 3255389356u}},
      {1, {577090037u, 2444712010u, 3639700191u}},
      {5, {2675342405u, 1097127993u, 3185950873u}},
      {(std::uint64_t{1} << 40) + 3, {943978446u, 261273136u, 2359950418u}},  // a two-word key
  };
  for (const auto& [seed, expected] : cases) {
    PythonRandom random(seed);
    for (std::uint32_t value : expected) EXPECT_EQ(random.next_u32(), value) << "seed " << seed;
  }
}

TEST(PythonRandom, ManyDrawsCrossTheTwist) {
  PythonRandom random(0);
  for (int i = 0; i < 2000; ++i) random.next_u32();  // 624 words per twist: three twists
  for (int i = 0; i < 1000; ++i) EXPECT_LT(random.below(7), 7u);
}

TEST(ShuffledIndices, MatchesCPythonShuffle) {
  using V = std::vector<std::size_t>;
  EXPECT_EQ(shuffled_indices(10, 0), (V{7, 8, 1, 5, 3, 4, 2, 0, 9, 6}));
  EXPECT_EQ(shuffled_indices(10, 1), (V{6, 8, 9, 7, 5, 3, 0, 4, 1, 2}));
  EXPECT_EQ(shuffled_indices(20, 7), (V{17, 15, 11, 18, 7, 6, 19, 3, 14, 0, 9, 5, 16, 8, 13, 2, 1, 12, 4, 10}));
  EXPECT_EQ(shuffled_indices(2, 0), (V{0, 1}));
  EXPECT_EQ(shuffled_indices(1, 0), (V{0}));
  EXPECT_TRUE(shuffled_indices(0, 0).empty());
}

}  // namespace
}  // namespace rlhf::data
