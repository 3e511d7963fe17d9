// Inputs the fuzzer (fuzz/gpt2_config.cpp, docs/fuzzing.md) found in the config.json reader: an escape
// other than rlhf::Error, and an accepted config whose derived sizes overflow. Each is also in
// fuzz/regressions/gpt2_config/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rlhf/model/gpt2_config.h"
#include "rlhf/util/error.h"

namespace rlhf::model {
namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    parse_gpt2_config(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// nlohmann::json throws out_of_range (not parse_error) for a number beyond double's range.
TEST(Gpt2ConfigFuzzRegressions, NumberBeyondDoubleIsAnError) {
  const auto path = std::filesystem::temp_directory_path() / ("rlhf_gpt2_config_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << "{\"n_embd\": 5e999}";
  try {
    load_gpt2_config(path);
    ADD_FAILURE() << "expected an rlhf::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(": invalid JSON: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("number overflow parsing '5e999'"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// The parsed file is kept (Gpt2Config::original) and copied and dumped, all recursively: a key nested a
// million levels deep overflowed the stack. Nesting beyond 256 levels is refused first.
TEST(Gpt2ConfigFuzzRegressions, DeepNestingIsRefusedNotAStackOverflow) {
  const auto path = std::filesystem::temp_directory_path() / ("rlhf_gpt2_deep_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << "{\"n_embd\": 64, \"x\": " << std::string(1'000'000, '[') << std::string(1'000'000, ']') << "}";
  try {
    load_gpt2_config(path);
    ADD_FAILURE() << "expected an rlhf::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": JSON nested deeper than 256 levels at line 1, column 276");
  }
  std::filesystem::remove(path);
}

// mlp_width() = 4 * n_embd overflowed int (UBSan) for an accepted n_embd above INT_MAX / 4.
TEST(Gpt2ConfigFuzzRegressions, MlpWidthMustFitInAnInt) {
  EXPECT_EQ(error_of({{"n_embd", 666669632}, {"n_head", 4}}),
            "config.json: n_embd: must be <= 536870911 when n_inner is not set (the MLP width 4 * n_embd must fit "
            "in 32 bits), got 666669632");
  const Gpt2Config largest = parse_gpt2_config({{"n_embd", 536870911}, {"n_head", 1}}, "config.json");
  EXPECT_EQ(largest.mlp_width(), 2147483644);
  const Gpt2Config explicit_width = parse_gpt2_config({{"n_embd", 666669632}, {"n_head", 4}, {"n_inner", 8}}, "c");
  EXPECT_EQ(explicit_width.mlp_width(), 8);
}

}  // namespace
}  // namespace rlhf::model
