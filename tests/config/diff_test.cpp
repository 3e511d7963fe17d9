#include <gtest/gtest.h>

#include "rlhf/config/diff.h"

namespace rlhf::config {
namespace {

TEST(ConfigDiff, NamesEveryChangedLeafWithBothValues) {
  const nlohmann::json before = {{"ppo", {{"lr", 0.0005}, {"batch_size", 64}}}, {"old", 1}, {"same", "x"}};
  const nlohmann::json after = {{"ppo", {{"lr", 0.0001}, {"batch_size", 64}}}, {"same", "x"}, {"new", true}};
  const auto changes = changed_keys(before, after);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].describe(), "old: removed (was 1)");
  EXPECT_EQ(changes[1].describe(), "ppo.lr: 0.0005 -> 0.0001");
  EXPECT_EQ(changes[2].describe(), "new: added (true)");
  EXPECT_TRUE(changed_keys(before, before).empty());
  // An object replaced by a value is one change at the object's key.
  EXPECT_EQ(changed_keys({{"a", {{"b", 1}}}}, {{"a", 2}})[0].describe(), "a: {\"b\":1} -> 2");
}

}  // namespace
}  // namespace rlhf::config
