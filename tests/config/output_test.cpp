// validate_config, to_json, save_resolved_config, describe_markdown, key_paths.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "rlhf/util/files.h"
#include "test_configs.h"

namespace rlhf::config::testing {
namespace {

using nlohmann::ordered_json;

TEST(Validate, DefaultsAreValid) {
  EXPECT_NO_THROW(validate_config(TestConfig{}));
}

// The message validate_config gives for a default configuration changed by `edit`.
template <class F>
std::string validation_error(F edit) {
  TestConfig c;
  edit(c);
  return error_of([&] { validate_config(c); });
}

TEST(Validate, RangesAndChoicesNameTheKeyAndValue) {
  EXPECT_EQ(validation_error([](TestConfig& c) { c.batch_size = 0; }), "batch_size: must be >= 1, got 0");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.sampling.temperature = -0.5; }),
            "sampling.temperature: must be >= 0, got -0.5");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.runtime.precision = "fp64"; }),
            "runtime.precision: must be one of fp32, bf16, fp16, got \"fp64\"");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.deep.ids = {4, -2}; }), "deep.ids[1]: must be >= 1, got -2");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.deep.inner.lr = 0.0; }), "deep.inner.lr: must be > 0, got 0");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.deep.inner.scale = std::nanf(""); }),
            "deep.inner.scale: must be in [0, 1], got nan");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.deep.inner.tag = "q"; }),
            "deep.inner.tag: must be one of x, y, got \"q\"");
  EXPECT_EQ(validation_error([](TestConfig& c) {
              c.deep.names = {"a", "Q"};
            }),
            "deep.names[1]: must be one of a, b, c, got \"Q\"");
}

TEST(Validate, CheckHooksRunWithTheirSectionPath) {
  EXPECT_EQ(validation_error([](TestConfig& c) {
              c.sampling.top_k = 5;
              c.sampling.top_p = 0.9;
            }),
            "sampling: top_k and top_p cannot both be set (top_k=5)");
  EXPECT_EQ(validation_error([](TestConfig& c) { c.batch_size = 2000; }), "batch_size > 1000 needs a model");
  EXPECT_EQ(validation_error([](TestConfig& c) {
              c.batch_size = 2000;
              c.model = "m";
            }),
            "no error");
}

TEST(Validate, FieldConstraintsComeBeforeCheckHooks) {
  TestConfig c;
  c.sampling.top_k = 5;
  c.sampling.top_p = 0.9;
  c.sampling.max_new_tokens = 0;
  EXPECT_EQ(error_of([&] { validate_config(c); }), "sampling.max_new_tokens: must be >= 1, got 0");
}

TEST(Validate, HasCheckDetectsTheHook) {
  static_assert(detail::HasCheck<SamplingOptions>::value);
  static_assert(detail::HasCheck<TestConfig>::value);
  static_assert(!detail::HasCheck<RuntimeOptions>::value);
  SUCCEED();
}

TEST(ToJson, AllFieldsInDeclarationOrder) {
  TestConfig c;
  c.deep.inner.limit = 3;
  const ordered_json j = to_json(c);
  std::vector<std::string> top;
  for (const auto& item : j.items()) top.push_back(item.key());
  EXPECT_EQ(top, (std::vector<std::string>{"runtime", "model", "sampling", "batch_size", "size", "deep"}));
  EXPECT_EQ(j["sampling"].dump(),
            R"({"temperature":1.0,"top_k":0,"top_p":1.0,"max_new_tokens":24,"stop_at_eos":false,"eos_id":-1})");
  EXPECT_EQ(j["deep"]["inner"].dump(),
            R"({"scale":0.5,"steps":100,"limit":3,"lr":null,"tag":null,"flag":null,"big":null,"ratio":0.25})");
  EXPECT_EQ(j["deep"]["names"].dump(), R"(["a","b"])");
  EXPECT_EQ(j["deep"]["weights"].dump(), "[]");
}

TEST(ToJson, FloatsUseTheirShortestForm) {
  TestConfig c;
  c.deep.inner.scale = 0.1f;
  c.deep.inner.ratio = 0.3f;
  const ordered_json j = to_json(c);
  EXPECT_EQ(j["deep"]["inner"]["scale"].dump(), "0.1");
  EXPECT_EQ(j["deep"]["inner"]["ratio"].dump(), "0.3");
}

TEST(Save, ReReadingGivesTheSameConfiguration) {
  const auto dir = fresh_dir("save");
  TestConfig c;
  c.runtime.device = "cuda:0";
  c.runtime.seed = -42;
  c.model = "weird \"name\" | with\nnewline";
  c.sampling.temperature = 0.7;
  c.sampling.top_p = 0.95;
  c.sampling.stop_at_eos = true;
  c.batch_size = 3;
  c.size = "355M";
  c.deep.inner.scale = 0.1f;
  c.deep.inner.steps = 18446744073709551615ull;
  c.deep.inner.lr = 1e-5;
  c.deep.inner.tag = "y";
  c.deep.inner.ratio.reset();
  c.deep.names = {"c", "a"};
  c.deep.ids = {};
  c.deep.weights = {0.1, 1e300};
  c.deep.big_ids = {-9007199254740993LL, 9223372036854775807LL};
  c.deep.limit_inf = std::numeric_limits<double>::infinity();
  save_resolved_config(c, dir / "run.config.json");

  const std::string text = read_text_file(dir / "run.config.json");
  EXPECT_EQ(text, to_json(c).dump(2) + "\n");
  TestConfig back;
  read_config_file(back, dir / "run.config.json");
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(back.deep.inner.scale, 0.1f);
  EXPECT_EQ(back.model, c.model);
  EXPECT_TRUE(std::isinf(back.deep.limit_inf));
  EXPECT_FALSE(back.deep.inner.ratio.has_value());
  EXPECT_EQ(back.deep.big_ids, c.deep.big_ids);
  std::filesystem::remove_all(dir);
}

TEST(Describe, TableHasEveryKeyWithTypeDefaultConstraintAndDoc) {
  const std::string md = describe_markdown(TestConfig{}, "rlhf generate");
  EXPECT_EQ(md.rfind("# rlhf generate\n\n| Key | Type | Default | Allowed | Description |\n", 0), 0u) << md;
  EXPECT_NE(md.find("| **`sampling`** | section |  |  | How continuations are drawn |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `sampling.temperature` | double | `1.0` | >= 0 | Logits are divided by it before sampling; 0 = "
                    "greedy |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `batch_size` | int | `16` | >= 1 | Prompts sampled together |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `size` | string | `\"124M\"` | one of 124M, gpt2, 355M | GPT-2 size |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| `sampling.top_p` | double | `1.0` | in (0, 1] | Nucleus mass \\| 1 = all |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| `deep.inner.limit` | optional int | `null` | >= 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `deep.names` | list of strings | `[\"a\",\"b\"]` | one of a, b, c |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `deep.inner.steps` | uint64 | `100` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `model` | string | `\"\"` |"), std::string::npos) << md;
  // One row per key plus the header lines.
  const auto rows = static_cast<std::size_t>(std::count(md.begin(), md.end(), '\n'));
  EXPECT_EQ(rows, 4 + key_paths(TestConfig{}).size());
}

TEST(Describe, ShowsTheGivenValues) {
  TestConfig c;
  c.batch_size = 64;
  EXPECT_NE(describe_markdown(c, "t").find("| `batch_size` | int | `64` |"), std::string::npos);
}

TEST(KeyPaths, SectionsAndFieldsInOrder) {
  const auto paths = key_paths(TestConfig{});
  ASSERT_GE(paths.size(), 4u);
  EXPECT_EQ(paths[0], "runtime");
  EXPECT_EQ(paths[1], "runtime.device");
  EXPECT_EQ(paths[5], "model");
  EXPECT_EQ(paths.back(), "deep.limit_inf");
  EXPECT_NE(std::find(paths.begin(), paths.end(), "deep.inner.ratio"), paths.end());
}

struct DuplicateKeys {
  int a = 0;
  int b = 0;
  template <class V>
  void visit(V& v) {
    v.field("a", a, "");
    v.field("a", b, "");
  }
};

struct DottedKey {
  int a = 0;
  template <class V>
  void visit(V& v) {
    v.field("a.b", a, "");
  }
};

TEST(KeyPaths, MalformedDeclarationsAreProgrammingErrors) {
  DuplicateKeys d;
  EXPECT_THROW(apply_override(d, "a=1", "--set"), std::logic_error);
  DottedKey k;
  EXPECT_THROW(key_paths(k), std::logic_error);
}

}  // namespace
}  // namespace rlhf::config::testing
