// The nesting bound every reader of outside JSON applies (util/json_depth.h): found by fuzzing, where a
// deeply nested file overflowed the stack in nlohmann's recursive dump() of an error message.
#include "rlhf/util/json_depth.h"

#include <gtest/gtest.h>

#include <string>

#include "rlhf/util/error.h"

namespace rlhf {
namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonDepth, AllowsUpToTheLimit) {
  EXPECT_TRUE(json_depth_ok(""));
  EXPECT_TRUE(json_depth_ok("{\"a\": [1, {\"b\": []}]}"));
  EXPECT_TRUE(json_depth_ok(nested(kMaxJsonDepth)));
  EXPECT_TRUE(json_depth_ok(nested(kMaxJsonDepth) + nested(kMaxJsonDepth)));  // depth, not count
  EXPECT_FALSE(json_depth_ok(nested(kMaxJsonDepth + 1)));
  EXPECT_FALSE(json_depth_ok(std::string(kMaxJsonDepth, '{') + "["));
  EXPECT_FALSE(json_depth_ok(std::string(1'000'000, '[')));  // unclosed counts too
}

TEST(JsonDepth, StringsAndCommentsDoNotCount) {
  const std::string brackets(1000, '[');
  EXPECT_TRUE(json_depth_ok("[\"" + brackets + "\"]"));
  EXPECT_TRUE(json_depth_ok("[\"\\\"" + brackets + "\"]"));  // an escaped quote does not end the string
  EXPECT_TRUE(json_depth_ok("// " + brackets + "\n[]"));
  EXPECT_TRUE(json_depth_ok("/* " + brackets + " */ []"));
  EXPECT_FALSE(json_depth_ok("\"\\\\\"" + brackets));  // an escaped backslash does end it
}

TEST(JsonDepth, ErrorNamesSourceLineAndColumn) {
  try {
    check_json_depth("{\n  \"a\": " + std::string(300, '['), "x.json");
    FAIL() << "expected an rlhf::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "x.json: JSON nested deeper than 256 levels at line 2, column 263");
  }
  EXPECT_NO_THROW(check_json_depth(nested(kMaxJsonDepth), "x.json"));
}

}  // namespace
}  // namespace rlhf
