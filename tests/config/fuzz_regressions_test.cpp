// Inputs the fuzzer (fuzz/config.cpp, docs/fuzzing.md) found to escape as something other than
// rlhf::Error; each is also in fuzz/regressions/config/.
#include <gtest/gtest.h>

#include "rlhf/config/diff.h"
#include "test_configs.h"

namespace rlhf::config::testing {
namespace {

// nlohmann::json throws out_of_range (not parse_error) for a number beyond double's range.
TEST(ConfigFuzzRegressions, NumberBeyondDoubleIsAnError) {
  EXPECT_EQ(error_of([] { detail::parse_json_text("1e999", "x.json"); }),
            "x.json: invalid JSON: number overflow parsing '1e999' (numbers must fit in a double)");
  TestConfig config;
  EXPECT_EQ(error_of([&] { apply_json(config, detail::parse_json_text("{\"batch_size\": -1e400}", "x.json"), "x.json"); }),
            "x.json: invalid JSON: number overflow parsing '-1e400' (numbers must fit in a double)");
}

// --set text may hold any bytes; a string that is not UTF-8 could not be saved or diffed as JSON
// (KeyChange::describe threw nlohmann's type_error 316).
TEST(ConfigFuzzRegressions, SetStringMustBeUtf8) {
  TestConfig config;
  EXPECT_EQ(error_of([&] { apply_override(config, "model=a\xDD", "--set"); }),
            "--set: model: expected UTF-8 text, got \"a\xEF\xBF\xBD\"");
  EXPECT_EQ(error_of([&] { apply_override(config, "deep.names=a,\xFF", "--set"); }),
            "--set: deep.names[1]: expected UTF-8 text, got \"\xEF\xBF\xBD\"");
  apply_override(config, "model=caf\xC3\xA9", "--set");  // valid UTF-8 is fine
  EXPECT_EQ(config.model, "caf\xC3\xA9");
  const auto changes = changed_keys(to_json(TestConfig{}), to_json(config));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].describe(), "model: \"\" -> \"caf\xC3\xA9\"");
}

// nlohmann's dump() recurses: showing a value nested a million levels deep in an error message overflowed
// the stack. Files and --set values are refused (or shown as text) beyond 256 levels.
TEST(ConfigFuzzRegressions, DeepNestingIsRefusedNotAStackOverflow) {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  EXPECT_EQ(error_of([&] { detail::parse_json_text("{\"deep\": " + deep + "}", "x.json"); }),
            "x.json: JSON nested deeper than 256 levels at line 1, column 265");
  TestConfig config;
  EXPECT_EQ(error_of([&] { apply_override(config, "deep.ids=" + deep, "--set"); }),
            "--set: deep.ids: expected a list of integers, got \"" + std::string(76, '[') + "...");
  const std::string ok = std::string(255, '[') + std::string(255, ']');  // within the bound: shown as JSON
  EXPECT_EQ(error_of([&] { apply_override(config, "batch_size=" + ok, "--set"); }),
            "--set: batch_size: expected an integer, got " + std::string(77, '[') + "...");
}

}  // namespace
}  // namespace rlhf::config::testing
