// --set section.key=value: parsing by the field's type, errors, and precedence over files.
#include <gtest/gtest.h>

#include "test_configs.h"

namespace rlhf::config::testing {
namespace {

TestConfig with(std::initializer_list<std::string> assignments) {
  TestConfig config;
  for (const auto& a : assignments) apply_override(config, a, "--set");
  return config;
}

std::string set_error(const std::string& assignment) {
  TestConfig config;
  return error_of([&] { apply_override(config, assignment, "--set"); });
}

TEST(Override, Strings) {
  EXPECT_EQ(with({"model=/models/gpt2"}).model, "/models/gpt2");
  EXPECT_EQ(with({"model=\"quoted\""}).model, "quoted");
  EXPECT_EQ(with({"model=a=b"}).model, "a=b");
  EXPECT_EQ(with({"model="}).model, "");
  EXPECT_EQ(with({"model=123"}).model, "123");
  EXPECT_EQ(with({"model=true"}).model, "true");
  EXPECT_EQ(with({" runtime.device =cuda:1"}).runtime.device, "cuda:1");
}

TEST(Override, Integers) {
  EXPECT_EQ(with({"sampling.top_k=40"}).sampling.top_k, 40);
  EXPECT_EQ(with({"runtime.seed=-12345678901"}).runtime.seed, -12345678901LL);
  EXPECT_EQ(with({"deep.inner.steps=18446744073709551615"}).deep.inner.steps, 18446744073709551615ull);
  EXPECT_EQ(with({"batch_size= 7 "}).batch_size, 7);
}

TEST(Override, Reals) {
  EXPECT_DOUBLE_EQ(with({"sampling.temperature=0.7"}).sampling.temperature, 0.7);
  EXPECT_DOUBLE_EQ(with({"sampling.temperature=2"}).sampling.temperature, 2.0);
  EXPECT_DOUBLE_EQ(with({"sampling.temperature=1e-1"}).sampling.temperature, 0.1);
  EXPECT_FLOAT_EQ(with({"deep.inner.scale=0.125"}).deep.inner.scale, 0.125f);
  EXPECT_TRUE(std::isinf(with({"deep.limit_inf=inf"}).deep.limit_inf));
}

TEST(Override, Bools) {
  EXPECT_TRUE(with({"sampling.stop_at_eos=true"}).sampling.stop_at_eos);
  EXPECT_TRUE(with({"sampling.stop_at_eos=1"}).sampling.stop_at_eos);
  EXPECT_FALSE(with({"sampling.stop_at_eos=true", "sampling.stop_at_eos=false"}).sampling.stop_at_eos);
  EXPECT_FALSE(with({"sampling.stop_at_eos=true", "sampling.stop_at_eos=0"}).sampling.stop_at_eos);
  EXPECT_EQ(set_error("sampling.stop_at_eos=yes"), "--set: sampling.stop_at_eos: expected true or false, got \"yes\"");
  EXPECT_EQ(set_error("sampling.stop_at_eos=2"), "--set: sampling.stop_at_eos: expected true or false, got 2");
}

TEST(Override, Optionals) {
  const TestConfig set =
      with({"deep.inner.limit=5", "deep.inner.lr=3e-4", "deep.inner.tag=x", "deep.inner.flag=1", "deep.inner.big=-1"});
  EXPECT_EQ(set.deep.inner.limit, std::optional<int>(5));
  EXPECT_EQ(set.deep.inner.lr, std::optional<double>(3e-4));
  EXPECT_EQ(set.deep.inner.tag, std::optional<std::string>("x"));
  EXPECT_EQ(set.deep.inner.flag, std::optional<bool>(true));
  EXPECT_EQ(set.deep.inner.big, std::optional<std::int64_t>(-1));
  const TestConfig cleared = with({"deep.inner.limit=5", "deep.inner.limit=null", "deep.inner.ratio=null"});
  EXPECT_FALSE(cleared.deep.inner.limit.has_value());
  EXPECT_FALSE(cleared.deep.inner.ratio.has_value());
  EXPECT_EQ(set_error("deep.inner.limit=abc"), "--set: deep.inner.limit: expected an integer, got \"abc\"");
  EXPECT_EQ(set_error("deep.inner.limit=-1"), "--set: deep.inner.limit: must be >= 0, got -1");
}

TEST(Override, Lists) {
  EXPECT_EQ(with({"deep.ids=[3, 4, 5]"}).deep.ids, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(with({"deep.ids=3,4"}).deep.ids, (std::vector<int>{3, 4}));
  EXPECT_EQ(with({"deep.ids=7"}).deep.ids, (std::vector<int>{7}));
  EXPECT_TRUE(with({"deep.ids="}).deep.ids.empty());
  EXPECT_TRUE(with({"deep.ids=[]"}).deep.ids.empty());
  EXPECT_EQ(with({"deep.names=a, c"}).deep.names, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(with({"deep.names=[\"b\",\"c\"]"}).deep.names, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(with({"deep.names=[c, a]"}).deep.names, (std::vector<std::string>{"c", "a"}));
  EXPECT_TRUE(with({"deep.names=[]"}).deep.names.empty());
  EXPECT_EQ(with({"deep.weights=0.5,1e2"}).deep.weights, (std::vector<double>{0.5, 100.0}));
  EXPECT_EQ(with({"deep.big_ids=[-9007199254740993]"}).deep.big_ids, std::vector<std::int64_t>{-9007199254740993LL});
  EXPECT_EQ(set_error("deep.ids=1,x"), "--set: deep.ids[1]: expected an integer, got \"x\"");
  EXPECT_EQ(set_error("deep.ids=[1,,2]"), "--set: deep.ids: expected a list of integers, got \"[1,,2]\"");
  EXPECT_EQ(set_error("deep.ids=1,0"), "--set: deep.ids[1]: must be >= 1, got 0");
  EXPECT_EQ(set_error("deep.names=a,z"), "--set: deep.names[1]: must be one of a, b, c, got \"z\"");
}

TEST(Override, WrongTypesAndRanges) {
  EXPECT_EQ(set_error("sampling.top_k=ten"), "--set: sampling.top_k: expected an integer, got \"ten\"");
  EXPECT_EQ(set_error("sampling.top_k=1.5"), "--set: sampling.top_k: expected an integer, got 1.5");
  EXPECT_EQ(set_error("sampling.top_k="), "--set: sampling.top_k: expected an integer, got \"\"");
  EXPECT_EQ(set_error("sampling.top_k=0x10"), "--set: sampling.top_k: expected an integer, got \"0x10\"");
  EXPECT_EQ(set_error("sampling.top_k=5000000000"),
            "--set: sampling.top_k: expected an integer in [-2147483648, 2147483647], got 5000000000");
  EXPECT_EQ(set_error("sampling.temperature=warm"), "--set: sampling.temperature: expected a number, got \"warm\"");
  EXPECT_EQ(set_error("batch_size=0"), "--set: batch_size: must be >= 1, got 0");
  EXPECT_EQ(set_error("size=7B"), "--set: size: must be one of 124M, gpt2, 355M, got \"7B\"");
  EXPECT_EQ(set_error("deep.inner.steps=-1"), "--set: deep.inner.steps: expected a non-negative integer, got -1");
}

TEST(Override, MalformedAssignments) {
  EXPECT_EQ(set_error("foo"), "--set: expected section.key=value, got 'foo'");
  EXPECT_EQ(set_error("=3"), "--set: expected section.key=value, got '=3'");
  EXPECT_EQ(set_error("sampling..top_k=3"), "--set: expected section.key=value, got 'sampling..top_k=3'");
  EXPECT_EQ(set_error("sampling.=3"), "--set: expected section.key=value, got 'sampling.=3'");
}

TEST(Override, UnknownKeys) {
  EXPECT_EQ(set_error("runtime.devise=cpu"), "--set: unknown key 'runtime.devise' (did you mean 'runtime.device'?)");
  EXPECT_EQ(set_error("runtim.device=cpu"), "--set: unknown key 'runtim.device' (did you mean 'runtime.device'?)");
  EXPECT_EQ(set_error("temperature=0.5"), "--set: unknown key 'temperature' (did you mean 'sampling.temperature'?)");
  EXPECT_EQ(set_error("inner.scale=0.5"), "--set: unknown key 'inner.scale' (did you mean 'deep.inner.scale'?)");
  EXPECT_EQ(set_error("runtime.zzzzzz=1"),
            "--set: unknown key 'runtime.zzzzzz' (valid keys in 'runtime': device, threads, seed, precision)");
}

TEST(Override, SectionsAndValuesAreNotInterchangeable) {
  EXPECT_EQ(set_error("sampling=3").rfind("--set: sampling: is a section, not a value", 0), 0u);
  EXPECT_EQ(set_error("deep.inner=3").rfind("--set: deep.inner: is a section, not a value", 0), 0u);
  EXPECT_EQ(set_error("model.path=x"), "--set: model: is a value, not a section, so 'model.path' does not exist");
}

TEST(Override, SourceStartsTheMessage) {
  TestConfig config;
  EXPECT_EQ(error_of([&] { apply_override(config, "batch_size=x", "command line"); }),
            "command line: batch_size: expected an integer, got \"x\"");
}

TEST(Override, FileThenSetInOrder) {
  const auto dir = fresh_dir("precedence");
  const auto path =
      write_text(dir / "preset.json", R"({"batch_size": 64, "sampling": {"top_k": 3, "temperature": 0.5}})");
  TestConfig config;
  read_config_file(config, path);
  apply_override(config, "batch_size=8", "--set");
  apply_override(config, "sampling.top_k=9", "--set");
  apply_override(config, "sampling.top_k=10", "--set");  // the later --set wins
  validate_config(config);
  EXPECT_EQ(config.batch_size, 8);
  EXPECT_EQ(config.sampling.top_k, 10);
  EXPECT_DOUBLE_EQ(config.sampling.temperature, 0.5);  // from the file
  EXPECT_EQ(config.sampling.max_new_tokens, 24);       // default
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rlhf::config::testing
