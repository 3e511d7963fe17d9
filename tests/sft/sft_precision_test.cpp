// SFT with runtime.train_precision = bf16 on the CPU against the same run in fp32: per-step losses
// and final weights within stated tolerances (bf16 rounds to 2^-9 relative), weights stay fp32.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/sft/trainer.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace {

namespace fs = std::filesystem;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr int kSteps = 12;
// Measured on LibTorch 1.13's CPU: 0.0017 and 0.031.
constexpr double kLossTolerance = 0.02;            // absolute, per step (losses from about 6.2 down)
constexpr double kRelativeWeightTolerance = 0.10;  // ||w_bf16 - w_fp32|| / ||w_fp32 - w_0||

class SftPrecision : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_sft_precision_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string text;
    for (int i = 0; i < 40; ++i) text += "the quick brown fox jumps over the lazy dog.\n";
    write_file_atomic(dir / "text.txt", text);
  }
  void TearDown() override { fs::remove_all(dir); }

  struct Run {
    std::vector<double> losses;
    std::vector<std::pair<std::string, at::Tensor>> weights;
  };

  Run train(core::Precision precision, const std::string& name) const {
    SftConfig c;
    c.runtime.seed = 5;
    c.model = kTiny.string();
    c.data.path = (dir / "text.txt").string();
    c.data.format = "text";
    c.data.validation_fraction = 0.0;
    c.training.sequence_length = 32;
    c.training.batch_size = 4;
    c.training.lr = 1e-3;
    c.training.max_steps = kSteps;
    c.training.eval_interval = 0;
    c.training.save_interval = 0;
    c.training.log_interval = 100;
    c.training.dropout = 0.0;  // the two runs then differ in precision only
    c.output = (dir / name).string();
    compat::manual_seed(5);
    core::Runtime r;
    r.seed = 5;
    r.train_precision = precision;
    SftTrainer trainer(c, prepare_sft(c), r);
    trainer.train();
    Run out;
    std::ifstream in(fs::path(c.output) / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      const auto record = nlohmann::json::parse(line);
      if (record.contains("loss")) out.losses.push_back(record["loss"].get<double>());
    }
    for (const auto& item : trainer.model().named_parameters()) {
      out.weights.emplace_back(item.key(), item.value().detach().clone());
    }
    return out;
  }

  fs::path dir;
};

TEST_F(SftPrecision, Bf16StaysWithinToleranceOfFp32) {
  const Run fp32 = train(core::Precision::FP32, "fp32");
  const Run bf16 = train(core::Precision::BF16, "bf16");
  ASSERT_EQ(fp32.losses.size(), static_cast<std::size_t>(kSteps));
  ASSERT_EQ(bf16.losses.size(), fp32.losses.size());
  double worst_loss = 0;
  for (std::size_t i = 0; i < fp32.losses.size(); ++i) {
    worst_loss = std::max(worst_loss, std::abs(bf16.losses[i] - fp32.losses[i]));
    EXPECT_NEAR(bf16.losses[i], fp32.losses[i], kLossTolerance) << "step " << i;
  }
  EXPECT_LT(fp32.losses.back(), fp32.losses.front() - 0.5) << "fp32 did not learn: the comparison means nothing";
  model::Gpt2 initial = model::load_gpt2(kTiny);
  const auto named = initial->named_parameters();
  double moved_sq = 0, apart_sq = 0;
  for (std::size_t i = 0; i < fp32.weights.size(); ++i) {
    ASSERT_EQ(bf16.weights[i].second.scalar_type(), at::kFloat) << bf16.weights[i].first;
    moved_sq += (fp32.weights[i].second - named[fp32.weights[i].first]).to(at::kDouble).pow(2).sum().item<double>();
    apart_sq += (fp32.weights[i].second - bf16.weights[i].second).to(at::kDouble).pow(2).sum().item<double>();
  }
  const double relative = std::sqrt(apart_sq / moved_sq);
  std::cout << "[ measured ] sft bf16 vs fp32 over " << kSteps << " steps: max |loss diff| " << worst_loss
            << ", ||w_bf16 - w_fp32|| / ||w_fp32 - w_0|| " << relative << "\n";
  EXPECT_LT(relative, kRelativeWeightTolerance);
}

}  // namespace
}  // namespace rlhf::sft
