// `rlhf sft` as users run it: a new model from a config.json (with a cut vocabulary) trained a few
// steps, whose output `rlhf generate` loads; and bad inputs answered with the key or file.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

class SftCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    std::string text;
    for (int i = 0; i < 30; ++i) text += "the cat sat on the mat and the dog sat on the log.\n";
    write_file_atomic(dir / "text.txt", text);
  }
  // A copy of tiny-gpt2's config.json with other values.
  fs::path config_with(const nlohmann::json& changes) {
    nlohmann::json config = nlohmann::json::parse(slurp(kTiny / "config.json"));
    config.update(changes);
    write_file_atomic(dir / "config.json", config.dump(2));
    return dir / "config.json";
  }
  std::string base(const fs::path& config, int sequence_length = 32, const std::string& log_level = "warn") {
    return "sft --init-config " + config.string() + " --tokenizer " + kTiny.string() + " --data " +
           (dir / "text.txt").string() + " --format text -b 4 --sequence-length " + std::to_string(sequence_length) +
           " --log-level " + log_level;
  }
};

TEST_F(SftCli, NewModelWithCutVocabularyTrainsAndGenerates) {
  // 100 merges: 256 + 100 + 1 tokens, <|endoftext|> = 356.
  const fs::path config =
      config_with({{"vocab_size", 357}, {"bos_token_id", nullptr}, {"eos_token_id", nullptr}});
  const fs::path out = dir / "run";
  const Result r = run(base(config) + " --tokenizer-merges 100 --max-steps 4 -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary.at("steps"), 4);
  EXPECT_TRUE(summary.contains("validation_loss"));
  const auto saved = nlohmann::json::parse(slurp(out / "model" / "config.json"));
  EXPECT_EQ(saved.at("vocab_size"), 357);
  EXPECT_EQ(saved.at("eos_token_id"), 356);
  const auto vocab = nlohmann::json::parse(slurp(out / "model" / "vocab.json"));
  EXPECT_EQ(vocab.size(), 357u);
  EXPECT_EQ(vocab.at("<|endoftext|>"), 356);
  EXPECT_TRUE(fs::exists(out / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(out / "sft.config.json"));

  const Result g = run("generate --model " + (out / "model").string() + " -p 'the cat' -n 5 --seed 1");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_THAT(g.out, HasSubstr("the cat"));
}

TEST_F(SftCli, RerunResumesFromTheCheckpoint) {
  const fs::path out = dir / "run";
  const std::string args = base(kTiny / "config.json", 32, "info") + " --max-steps 4 --set training.save_interval=2 -o " +
                           out.string();
  ASSERT_EQ(run(args).exit_code, 0);
  const Result again = run(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("resum"));
  EXPECT_EQ(nlohmann::json::parse(again.out).at("steps"), 4);
}

TEST_F(SftCli, BadInputsNameTheKeyOrFile) {
  const fs::path config = kTiny / "config.json";
  const std::string out = " -o " + (dir / "run").string();
  expect_error(run("sft --data " + (dir / "text.txt").string() + out), "model: no model given");
  expect_error(run("sft --model " + kTiny.string() + " --init-config " + config.string() + " --data " +
                   (dir / "text.txt").string() + out),
               "both set");
  expect_error(run("sft --model " + kTiny.string() + " --data " + (dir / "missing.txt").string() + out),
               "data.path: " + (dir / "missing.txt").string() + " not found");
  write_file_atomic(dir / "empty.txt", "\n");
  expect_error(run("sft --model " + kTiny.string() + " --data " + (dir / "empty.txt").string() + out),
               (dir / "empty.txt").string());
  expect_error(run(base(config, 65) + out), "training.sequence_length: 65");
  expect_error(run(base(config) + " --tokenizer-merges 100" + out), "vocab_size is 512 but the tokenizer has 357");
  expect_error(run("sft --model " + kTiny.string() + " --data " + (dir / "text.txt").string()), "output");
  // An output below a regular file cannot be created.
  expect_error(run(base(config) + " -o " + (dir / "text.txt" / "run").string()), "output: ");
  expect_error(run(base(config) + " --set data.mode=pairs" + out), "data.format");
  expect_error(run(base(config) + " --set training.dropout=0.95" + out), "training.dropout");
}

}  // namespace
}  // namespace rlhf::testing
