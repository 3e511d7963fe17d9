// The `rlhf` executable as users run it: outputs of each subcommand, and bad input answered by one
// clear line that names the file, a non-zero exit, no crash, and nothing written before destroyed.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

TEST_F(Cli, GenerateWritesJsonLinesAndItsConfiguration) {
  const fs::path out = dir / "samples.jsonl";
  const Result r = run("generate --model " + kTiny.string() + " -p 'the cat' -p 'a dog sat on' -n 7 --seed 3 -o " +
                       out.string() + " --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(slurp(out));
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record.at("tokens").size(), 7u);
    EXPECT_EQ(record.at("logprobs").size(), 7u);
    ++count;
  }
  EXPECT_EQ(count, 2);
  const auto config = nlohmann::json::parse(slurp(out.string() + ".config.json"));
  EXPECT_EQ(config.at("sampling").at("max_new_tokens"), 7);
  EXPECT_EQ(config.at("runtime").at("seed"), 3);
  // Same seed, same samples.
  const fs::path again = dir / "again.jsonl";
  ASSERT_EQ(run("generate --model " + kTiny.string() + " -p 'the cat' -p 'a dog sat on' -n 7 --seed 3 -o " +
                again.string()).exit_code, 0);
  EXPECT_EQ(slurp(out), slurp(again));
}

TEST_F(Cli, TokenizeRoundTrips) {
  const Result encoded = run("tokenize --model " + kTiny.string() + " 'hello there'");
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  const auto record = nlohmann::json::parse(encoded.out);
  std::string ids;
  for (const auto& id : record.at("ids")) ids += std::to_string(id.get<int>()) + " ";
  const Result decoded = run("tokenize --model " + kTiny.string() + " --decode '" + ids + "'");
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_EQ(nlohmann::json::parse(decoded.out).at("text"), "hello there");
}

TEST_F(Cli, LogprobsAreNegativeAndSumToTotal) {
  const Result r = run("logprobs --model " + kTiny.string() + " --text 'the cat sat' --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = nlohmann::json::parse(r.out);
  ASSERT_EQ(results.size(), 1u);
  double sum = 0;
  for (const auto& lp : results[0].at("logprobs")) {
    if (!lp.is_null()) sum += lp.get<double>();
  }
  EXPECT_LT(sum, 0);
  EXPECT_NEAR(sum, results[0].at("total").get<double>(), 1e-6);
}

TEST_F(Cli, BenchReportsThroughput) {
  const Result r = run("bench --model " + kTiny.string() +
                       " -b 2 --prompt-length 8 --new-tokens 4 --iterations 1 --warmup 0 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto result = nlohmann::json::parse(r.out);
  EXPECT_GT(result.at("forward_tokens_per_s").get<double>(), 0);
  EXPECT_GT(result.at("sampling_tokens_per_s").get<double>(), 0);
}

TEST_F(Cli, MissingModelDirectory) {
  expect_error(run("generate --model " + (dir / "absent").string() + " -p hi"), (dir / "absent").string());
}

TEST_F(Cli, TruncatedSafetensors) {
  const fs::path model = copy_tiny();
  fs::resize_file(model / "model.safetensors", 1000);
  expect_error(run("generate --model " + model.string() + " -p hi"), "model.safetensors");
}

TEST_F(Cli, HeaderLengthPastTheEnd) {
  const fs::path model = copy_tiny();
  std::string bytes = slurp(model / "model.safetensors");
  bytes[5] = '\x7f';  // header length now far beyond the file
  rlhf::write_file_atomic(model / "model.safetensors", bytes);
  expect_error(run("logprobs --model " + model.string() + " --text hi"), "model.safetensors");
}

TEST_F(Cli, LegacyPickleCheckpointGetsAConversionHint) {
  const fs::path model = copy_tiny();
  fs::remove(model / "model.safetensors");
  fs::copy_file(kData / "formats" / "torch_legacy.bin", model / "pytorch_model.bin");
  const Result r = run("generate --model " + model.string() + " -p hi");
  expect_error(r, "pytorch_model.bin");
  EXPECT_THAT(r.err, HasSubstr("legacy"));
}

TEST_F(Cli, UnknownConfigKeyIsNamed) {
  const fs::path config = dir / "bad.json";
  rlhf::write_file_atomic(config, R"({"sampling": {"temprature": 0.7}})");
  const Result r = run("generate --model " + kTiny.string() + " -p hi --config " + config.string());
  expect_error(r, "sampling.temprature");
  EXPECT_THAT(r.err, HasSubstr("bad.json"));
}

TEST_F(Cli, OutOfRangeOverrideNamesKeyAndValue) {
  const Result r = run("generate --model " + kTiny.string() + " -p hi --set batch_size=0");
  expect_error(r, "batch_size");
  EXPECT_THAT(r.err, HasSubstr("0"));
}

TEST_F(Cli, BadDeviceIsRefused) {
  expect_error(run("bench --model " + kTiny.string() + " --device tpu"), "tpu");
}

TEST_F(Cli, FailureLeavesAnEarlierOutputIntact) {
  const fs::path out = dir / "samples.jsonl";
  rlhf::write_file_atomic(out, "precious\n");
  const Result r = run("generate --model " + (dir / "absent").string() + " -p hi -o " + out.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(slurp(out), "precious\n");
}

TEST_F(Cli, PromptLongerThanTheContextIsRefused) {
  std::string prompt;
  for (int i = 0; i < 80; ++i) prompt += "word ";
  expect_error(run("generate --model " + kTiny.string() + " -p '" + prompt + "' -n 8"), "context");
}

// docs/configuration.md is generated by `rlhf config-docs`; this keeps the committed copy current.
TEST_F(Cli, ConfigurationReferenceIsUpToDate) {
  const Result r = run("config-docs");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sampling.temperature"));
  const fs::path committed = kData.parent_path().parent_path() / "docs" / "configuration.md";
  EXPECT_EQ(slurp(committed), r.out) << "regenerate it: build/rlhf config-docs > docs/configuration.md";
}

}  // namespace
}  // namespace rlhf::testing
