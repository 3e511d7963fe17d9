// Supervised fine-tuning end to end on the tiny GPT-2: the loss drops on a small repetitive text,
// resuming gives the weights of a straight run, and dropout acts only when asked for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/sft/trainer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace {

namespace fs = std::filesystem;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";

class SftTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_sft_train_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string text;
    for (int i = 0; i < 40; ++i) text += "the quick brown fox jumps over the lazy dog.\n";
    write_file_atomic(dir / "text.txt", text);
  }
  void TearDown() override { fs::remove_all(dir); }

  // A new tiny model (tiny-gpt2's shape, random weights) trained on text.txt.
  SftConfig config(const std::string& output) const {
    SftConfig c;
    c.runtime.seed = 5;
    c.init_config = (kTiny / "config.json").string();
    c.tokenizer = kTiny.string();
    c.data.path = (dir / "text.txt").string();
    c.data.format = "text";
    c.data.validation_fraction = 0.1;
    c.training.sequence_length = 32;
    c.training.batch_size = 4;
    c.training.lr = 3e-3;
    c.training.max_steps = 40;
    c.training.eval_interval = 0;
    c.training.save_interval = 0;
    c.training.log_interval = 100;
    c.output = (dir / output).string();
    return c;
  }

  static core::Runtime runtime(const SftConfig& c) {
    compat::manual_seed(static_cast<std::uint64_t>(c.runtime.seed));  // what init_runtime does
    core::Runtime r;
    r.seed = static_cast<std::uint64_t>(c.runtime.seed);
    return r;
  }

  fs::path dir;
};

TEST_F(SftTraining, LossDropsOnRepetitiveText) {
  const SftConfig c = config("out");
  const core::Runtime r = runtime(c);
  SftParts parts = prepare_sft(c);
  const Evaluation before = evaluate(*parts.model, parts.data.validation, 8);
  EXPECT_NEAR(before.loss, std::log(512.0), 1.0) << "a fresh model guesses about uniformly";
  SftTrainer trainer(c, std::move(parts), r);
  const nlohmann::json summary = trainer.train();
  EXPECT_EQ(summary.at("steps"), 40);
  EXPECT_LT(summary.at("validation_loss").get<double>(), before.loss - 3.0) << summary.dump();
  // The output is a model directory that loads, with its tokenizer and a metrics record per step.
  model::Gpt2 saved = model::load_gpt2(fs::path(c.output) / "model");
  EXPECT_TRUE(fs::exists(fs::path(c.output) / "model" / "merges.txt"));
  EXPECT_TRUE(fs::exists(fs::path(c.output) / "model" / "sft.json"));
  const std::string metrics = read_text_file(fs::path(c.output) / "metrics.jsonl");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 41);  // 40 steps and the final validation
}

TEST_F(SftTraining, PairsModeLearnsResponses) {
  std::string pairs;
  for (int i = 0; i < 30; ++i) {
    pairs += R"({"query": "question )" + std::to_string(i % 5) + R"(:", "response": " the answer is yes."})" "\n";
  }
  write_file_atomic(dir / "pairs.jsonl", pairs);
  SftConfig c = config("pairs");
  c.data.mode = "pairs";
  c.data.path = (dir / "pairs.jsonl").string();
  c.data.format = "auto";
  c.data.validation_fraction = 0.2;
  c.training.max_steps = 60;
  const core::Runtime r = runtime(c);
  SftParts parts = prepare_sft(c);
  ASSERT_EQ(parts.data.train.size(), 24u);
  const double before = evaluate(*parts.model, parts.data.validation, 8).loss;
  SftTrainer trainer(c, std::move(parts), r);
  EXPECT_DOUBLE_EQ(trainer.model().dropout(), 0.1) << "pairs mode defaults to the paper's 0.1";
  const nlohmann::json summary = trainer.train();
  EXPECT_LT(summary.at("validation_loss").get<double>(), before - 3.0) << summary.dump();
}

// Stopping after step 3 (its checkpoint) and running again gives the same weights as running through,
// with dropout on, so the generator state must come back too.
TEST_F(SftTraining, ResumeMatchesStraightRun) {
  const auto with = [&](const std::string& output) {
    SftConfig c = config(output);
    c.training.max_steps = 6;
    c.training.save_interval = 3;
    c.training.eval_interval = 2;
    c.training.dropout = 0.1;
    return c;
  };
  const SftConfig straight = with("straight");
  {
    const core::Runtime r = runtime(straight);
    SftTrainer(straight, prepare_sft(straight), r).train();
  }
  const SftConfig split = with("split");
  {
    const core::Runtime r = runtime(split);
    SftTrainer first(split, prepare_sft(split), r);
    first.train_steps(3);  // saves the checkpoint at step 3, then "stops"
  }
  {
    const core::Runtime r = runtime(split);
    compat::manual_seed(12345);  // a different generator state, which resume must replace
    SftParts parts = prepare_sft(split);
    ASSERT_TRUE(parts.from_checkpoint);
    SftTrainer second(split, std::move(parts), r);
    ASSERT_TRUE(second.resume());
    EXPECT_EQ(second.step(), 3);
    second.train();
  }
  model::Gpt2 a = model::load_gpt2(fs::path(straight.output) / "model");
  model::Gpt2 b = model::load_gpt2(fs::path(split.output) / "model");
  const auto pa = a->named_parameters();
  const auto pb = b->named_parameters();
  for (const auto& item : pa) {
    EXPECT_TRUE(item.value().equal(pb[item.key()])) << item.key();
  }
  // The metrics of both runs hold the same steps.
  const auto lines = [](const fs::path& p) {
    const std::string text = read_text_file(p);
    return std::count(text.begin(), text.end(), '\n');
  };
  EXPECT_EQ(lines(fs::path(split.output) / "metrics.jsonl"), lines(fs::path(straight.output) / "metrics.jsonl"));
}

TEST(SftDropout, ActsOnlyInTrainingModeWithARate) {
  model::Gpt2 model = model::load_gpt2(kTiny);
  const at::Tensor ids = at::arange(10, at::kLong).view({1, 10});
  const at::Tensor mask = at::ones({1, 10}, at::kBool);
  const at::Tensor positions = model::positions_from_mask(mask);
  at::NoGradGuard no_grad;
  const at::Tensor reference = model->forward(ids, mask, positions);
  model->train();
  EXPECT_TRUE(model->forward(ids, mask, positions).equal(reference)) << "rate 0: training mode changes nothing";
  model->set_dropout(0.5);
  EXPECT_FALSE(model->forward(ids, mask, positions).allclose(reference)) << "rate 0.5 in training mode";
  model->eval();
  EXPECT_TRUE(model->forward(ids, mask, positions).equal(reference)) << "eval mode ignores the rate";
  EXPECT_THROW(model->set_dropout(1.0), Error);
  EXPECT_THROW(model->set_dropout(-0.1), Error);
}

}  // namespace
}  // namespace rlhf::sft
