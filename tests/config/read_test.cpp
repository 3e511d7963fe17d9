// Reading configuration files and embedded JSON: values, and every kind of error.
#include <gtest/gtest.h>

#include "test_configs.h"

namespace rlhf::config::testing {
namespace {

using nlohmann::json;

class ReadConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    path_ = (dir_ / "x.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to x.json and reads it into a default TestConfig; the message of the error, if any.
  std::string read_error(const std::string& text) {
    write_text(path_, text);
    TestConfig config;
    return error_of([&] { read_config_file(config, path_); });
  }
  TestConfig read(const std::string& text) {
    write_text(path_, text);
    TestConfig config;
    read_config_file(config, path_);
    return config;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(ReadConfig, ReadsNestedValuesAndKeepsDefaultsElsewhere) {
  const TestConfig c = read(R"({
    "runtime": {"device": "cpu", "seed": -7},
    "sampling": {"temperature": 0.7, "top_k": 40, "stop_at_eos": true},
    "batch_size": 64,
    "deep": {"inner": {"scale": 0.25, "steps": 18446744073709551615, "limit": 3, "tag": "y"},
             "names": ["c"], "ids": [], "weights": [0.5, 2], "big_ids": [-9007199254740993]}
  })");
  EXPECT_EQ(c.runtime.device, "cpu");
  EXPECT_EQ(c.runtime.seed, -7);
  EXPECT_EQ(c.runtime.threads, 0);  // default kept
  EXPECT_DOUBLE_EQ(c.sampling.temperature, 0.7);
  EXPECT_EQ(c.sampling.top_k, 40);
  EXPECT_TRUE(c.sampling.stop_at_eos);
  EXPECT_EQ(c.sampling.max_new_tokens, 24);  // default kept
  EXPECT_EQ(c.batch_size, 64);
  EXPECT_FLOAT_EQ(c.deep.inner.scale, 0.25f);
  EXPECT_EQ(c.deep.inner.steps, 18446744073709551615ull);
  EXPECT_EQ(c.deep.inner.limit, std::optional<int>(3));
  EXPECT_EQ(c.deep.inner.tag, std::optional<std::string>("y"));
  EXPECT_FALSE(c.deep.inner.lr.has_value());
  EXPECT_EQ(c.deep.names, std::vector<std::string>{"c"});
  EXPECT_TRUE(c.deep.ids.empty());
  EXPECT_EQ(c.deep.weights, (std::vector<double>{0.5, 2.0}));
  EXPECT_EQ(c.deep.big_ids, std::vector<std::int64_t>{-9007199254740993LL});  // beyond double precision
}

TEST_F(ReadConfig, NullClearsAnOptional) {
  const TestConfig c = read(R"({"deep": {"inner": {"ratio": null, "flag": false, "big": 5000000000}}})");
  EXPECT_FALSE(c.deep.inner.ratio.has_value());
  EXPECT_EQ(c.deep.inner.flag, std::optional<bool>(false));
  EXPECT_EQ(c.deep.inner.big, std::optional<std::int64_t>(5000000000LL));
}

TEST_F(ReadConfig, CommentsAreAllowed) {
  const TestConfig c = read("{\n  // the paper's batch\n  \"batch_size\": 8 /* prompts */\n}");
  EXPECT_EQ(c.batch_size, 8);
}

TEST_F(ReadConfig, UnknownKeySuggestsTheClosestKey) {
  EXPECT_EQ(read_error(R"({"sampling": {"temprature": 0.7}})"),
            path_ + ": unknown key 'sampling.temprature' (did you mean 'sampling.temperature'?)");
  EXPECT_EQ(read_error(R"({"batch-size": 2})"), path_ + ": unknown key 'batch-size' (did you mean 'batch_size'?)");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"Scale": 1}}})"),
            path_ + ": unknown key 'deep.inner.Scale' (did you mean 'deep.inner.scale'?)");
}

TEST_F(ReadConfig, UnknownKeyAtTheWrongLevelSuggestsWhereItLives) {
  EXPECT_EQ(read_error(R"({"temperature": 0.7})"),
            path_ + ": unknown key 'temperature' (did you mean 'sampling.temperature'?)");
  EXPECT_EQ(read_error(R"({"sampling": {"batch_size": 4}})"),
            path_ + ": unknown key 'sampling.batch_size' (did you mean 'batch_size'?)");
}

TEST_F(ReadConfig, UnknownKeyWithNothingCloseListsTheValidKeys) {
  EXPECT_EQ(read_error(R"({"runtime": {"zzzzzz": 1}})"),
            path_ + ": unknown key 'runtime.zzzzzz' (valid keys in 'runtime': device, threads, seed, precision)");
  EXPECT_EQ(read_error(R"({"qqqqqqqq": 1})"),
            path_ + ": unknown key 'qqqqqqqq' (valid keys: runtime, model, sampling, batch_size, size, deep)");
}

TEST_F(ReadConfig, WrongTypesNameTheKeyAndTheValue) {
  EXPECT_EQ(read_error(R"({"sampling": {"top_k": "ten"}})"),
            path_ + ": sampling.top_k: expected an integer, got \"ten\"");
  EXPECT_EQ(read_error(R"({"sampling": {"top_k": 1.5}})"), path_ + ": sampling.top_k: expected an integer, got 1.5");
  EXPECT_EQ(read_error(R"({"sampling": {"top_k": true}})"), path_ + ": sampling.top_k: expected an integer, got true");
  EXPECT_EQ(read_error(R"({"sampling": {"top_k": 3000000000}})"),
            path_ + ": sampling.top_k: expected an integer in [-2147483648, 2147483647], got 3000000000");
  EXPECT_EQ(read_error(R"({"sampling": {"top_k": -3000000000}})"),
            path_ + ": sampling.top_k: expected an integer in [-2147483648, 2147483647], got -3000000000");
  EXPECT_EQ(read_error(R"({"sampling": {"stop_at_eos": 1}})"),
            path_ + ": sampling.stop_at_eos: expected true or false, got 1");
  EXPECT_EQ(read_error(R"({"sampling": {"temperature": false}})"),
            path_ + ": sampling.temperature: expected a number, got false");
  EXPECT_EQ(read_error(R"({"sampling": {"temperature": "0.7"}})"),
            path_ + ": sampling.temperature: expected a number, got \"0.7\"");
  EXPECT_EQ(read_error(R"({"model": 5})"), path_ + ": model: expected a string, got 5");
  EXPECT_EQ(read_error(R"({"model": null})"), path_ + ": model: expected a string, got null");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"steps": -1}}})"),
            path_ + ": deep.inner.steps: expected a non-negative integer, got -1");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"scale": 1e39}}})"),
            path_ + ": deep.inner.scale: expected a number in float range, got 1e+39");
  EXPECT_EQ(read_error(R"({"runtime": {"seed": 9223372036854775808}})"),
            path_ +
                ": runtime.seed: expected an integer in [-9223372036854775808, 9223372036854775807], got "
                "9223372036854775808");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"limit": "3"}}})"),
            path_ + ": deep.inner.limit: expected an integer, got \"3\"");
}

TEST_F(ReadConfig, IntegralFloatsAreIntegers) {
  EXPECT_EQ(read(R"({"batch_size": 1e3})").batch_size, 1000);
  EXPECT_EQ(read(R"({"batch_size": 32.0})").batch_size, 32);
}

TEST_F(ReadConfig, ListsAreCheckedElementByElement) {
  EXPECT_EQ(read_error(R"({"deep": {"ids": [1, "x"]}})"), path_ + ": deep.ids[1]: expected an integer, got \"x\"");
  EXPECT_EQ(read_error(R"({"deep": {"ids": 3}})"), path_ + ": deep.ids: expected a list of integers, got 3");
  EXPECT_EQ(read_error(R"({"deep": {"names": "a"}})"), path_ + ": deep.names: expected a list of strings, got \"a\"");
  EXPECT_EQ(read_error(R"({"deep": {"weights": [1, null]}})"),
            path_ + ": deep.weights[1]: expected a number, got null");
  EXPECT_EQ(read_error(R"({"deep": {"ids": [1, 0]}})"), path_ + ": deep.ids[1]: must be >= 1, got 0");
  EXPECT_EQ(read_error(R"({"deep": {"names": ["a", "d"]}})"),
            path_ + ": deep.names[1]: must be one of a, b, c, got \"d\"");
}

TEST_F(ReadConfig, SectionMustBeAnObject) {
  EXPECT_EQ(read_error(R"({"sampling": 5})"), path_ + ": sampling: expected an object (a section), got 5");
  EXPECT_EQ(read_error(R"({"deep": {"inner": [1]}})"), path_ + ": deep.inner: expected an object (a section), got [1]");
}

TEST_F(ReadConfig, OutOfRangeValuesNameTheBound) {
  EXPECT_EQ(read_error(R"({"batch_size": 0})"), path_ + ": batch_size: must be >= 1, got 0");
  EXPECT_EQ(read_error(R"({"sampling": {"top_p": 0}})"), path_ + ": sampling.top_p: must be in (0, 1], got 0");
  EXPECT_EQ(read_error(R"({"sampling": {"top_p": 1.5}})"), path_ + ": sampling.top_p: must be in (0, 1], got 1.5");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"scale": 1.25}}})"),
            path_ + ": deep.inner.scale: must be in [0, 1], got 1.25");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"lr": 0}}})"), path_ + ": deep.inner.lr: must be > 0, got 0");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"steps": 0}}})"), path_ + ": deep.inner.steps: must be >= 1, got 0");
  EXPECT_EQ(read(R"({"sampling": {"top_p": 1}})").sampling.top_p, 1.0);  // closed end
}

TEST_F(ReadConfig, OneOfListsTheChoices) {
  EXPECT_EQ(read_error(R"({"size": "7B"})"), path_ + ": size: must be one of 124M, gpt2, 355M, got \"7B\"");
  EXPECT_EQ(read_error(R"({"runtime": {"precision": "fp23"}})"),
            path_ + ": runtime.precision: must be one of fp32, bf16, fp16, got \"fp23\" (did you mean \"fp32\"?)");
  EXPECT_EQ(read_error(R"({"deep": {"inner": {"tag": "z"}}})"),
            path_ + ": deep.inner.tag: must be one of x, y, got \"z\"");
}

TEST_F(ReadConfig, BadJsonNamesLineAndColumn) {
  const std::string message = read_error("{\n  \"batch_size\": 8,\n}\n");
  EXPECT_EQ(message.rfind(path_ + ": invalid JSON at line 3, column 1: ", 0), 0u) << message;
  EXPECT_NE(message.find("(a trailing comma?)"), std::string::npos) << message;
  const std::string missing_colon = read_error("{\n\n  \"model\" \"x\"}");
  EXPECT_EQ(missing_colon.rfind(path_ + ": invalid JSON at line 3, column 13: ", 0), 0u) << missing_colon;
  EXPECT_NE(read_error("").find(path_ + ": invalid JSON at line 1, column 1"), std::string::npos);
}

TEST_F(ReadConfig, TopLevelMustBeAnObject) {
  EXPECT_EQ(read_error("[1, 2]"), path_ + ": expected a JSON object at the top level, got [1,2]");
}

TEST_F(ReadConfig, MissingFileIsAnError) {
  TestConfig config;
  const std::string message = error_of([&] { read_config_file(config, dir_ / "absent.json"); });
  EXPECT_NE(message.find((dir_ / "absent.json").string()), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
}

TEST_F(ReadConfig, LongValuesAreShortenedInMessages) {
  const std::string message = read_error(R"({"batch_size": ")" + std::string(200, 'x') + R"("})");
  EXPECT_LT(message.size(), 200u);
  EXPECT_NE(message.find("..."), std::string::npos);
}

TEST(ApplyJson, AppliesEmbeddedJsonWithItsSource) {
  TestConfig config;
  apply_json(config, json{{"sampling", {{"top_k", 5}}}}, "preset small");
  EXPECT_EQ(config.sampling.top_k, 5);
  EXPECT_EQ(error_of([&] {
              apply_json(config, json{{"batch_size", -2}}, "preset small");
            }),
            "preset small: batch_size: must be >= 1, got -2");
  EXPECT_EQ(error_of([&] { apply_json(config, json::array(), "preset small"); }),
            "preset small: expected a JSON object at the top level, got []");
}

TEST(ApplyJson, ValuesBeforeAnErrorAreKeptOnlyAsAPartialResult) {
  // Errors abort; the caller treats the configuration as unusable. What matters is the message.
  TestConfig config;
  EXPECT_NE(error_of([&] { apply_json(config, json{{"batch_size", 4}, {"bogus", 1}}, "f"); }), "no error");
}

}  // namespace
}  // namespace rlhf::config::testing
