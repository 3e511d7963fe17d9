// GPT-2 numerics against the independent PyTorch reference in scripts/make_tiny_gpt2.py, whose
// outputs are committed under tests/data/tiny-gpt2*/.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "torch_test_util.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/util/files.h"

namespace rlhf::model {
namespace {

const std::filesystem::path kData = RLHF_TEST_DATA;

struct Case {
  at::Tensor ids, mask, positions, hidden, logits;
};

Case load_case(const formats::TensorFile& ref, const std::string& name) {
  auto get = [&](const std::string& field) {
    const auto* view = ref.find(name + "." + field);
    if (view == nullptr) throw std::runtime_error("reference tensor missing: " + name + "." + field);
    return tensor_from_view(*view);
  };
  return {get("input_ids"), get("attention_mask"), get("position_ids"), get("hidden"), get("logits")};
}

// Max |a - b| over the entries where the reference is not NaN (NaN marks leading pads).
double max_error(const at::Tensor& actual, const at::Tensor& expected) {
  const at::Tensor defined = expected.isnan().logical_not();
  return (actual - expected).abs().masked_select(defined).max().item<double>();
}

class ReferenceLogits : public ::testing::TestWithParam<std::tuple<std::string, std::string, double>> {};

TEST_P(ReferenceLogits, MatchesIndependentImplementation) {
  const auto& [model_dir, case_name, tolerance] = GetParam();
  Gpt2 model = load_gpt2(kData / model_dir);
  const auto ref = formats::TensorFile::open(kData / model_dir / "reference.safetensors");
  const Case c = load_case(ref, case_name);
  EXPECT_TRUE(positions_from_mask(c.mask).equal(c.positions)) << "exclusive cumsum of the mask";
  at::NoGradGuard no_grad;
  const at::Tensor hidden = model->forward(c.ids, c.mask, c.positions);
  const at::Tensor logits = model->logits(hidden);
  EXPECT_LT(max_error(hidden, c.hidden), tolerance) << model_dir << " " << case_name;
  EXPECT_LT(max_error(logits, c.logits), tolerance) << model_dir << " " << case_name;
}

INSTANTIATE_TEST_SUITE_P(
    TinyGpt2, ReferenceLogits,
    ::testing::Combine(::testing::Values("tiny-gpt2", "tiny-gpt2-bin"),
                       ::testing::Values("nopad", "right", "left", "middle", "long"), ::testing::Values(1e-4)));
INSTANTIATE_TEST_SUITE_P(TinyGpt2Bf16Weights, ReferenceLogits,
                         ::testing::Combine(::testing::Values("tiny-gpt2-bf16"), ::testing::Values("right", "middle"),
                                            ::testing::Values(1e-4)));

TEST(Gpt2, PaddedRowEqualsUnpaddedRow) {
  Gpt2 model = load_gpt2(kData / "tiny-gpt2");
  at::NoGradGuard no_grad;
  const at::Tensor tokens = at::tensor({5, 17, 300, 42, 7}, at::kLong).view({1, 5});
  const at::Tensor alone = model->forward(tokens, at::ones({1, 5}, at::kLong), positions_from_mask(at::ones({1, 5})));
  // Same tokens with pads in the middle (id 514 is outside the vocabulary: it must not be embedded).
  const at::Tensor padded_ids = at::tensor({5, 17, 514, 514, 300, 42, 7}, at::kLong).view({1, 7});
  const at::Tensor mask = at::tensor({1, 1, 0, 0, 1, 1, 1}, at::kLong).view({1, 7});
  const at::Tensor padded = model->forward(padded_ids, mask, positions_from_mask(mask));
  const at::Tensor real = at::tensor({0, 1, 4, 5, 6}, at::kLong);
  EXPECT_LT((padded.index_select(1, real) - alone).abs().max().item<double>(), 1e-5);
  // Pads carry the output of the last real token before them.
  EXPECT_TRUE(padded.select(1, 2).equal(padded.select(1, 1)));
  EXPECT_TRUE(padded.select(1, 3).equal(padded.select(1, 1)));
}

TEST(Gpt2, PositionsAreExclusiveCumsumOfMask) {
  const at::Tensor mask = at::tensor({1, 0, 0, 1, 1, 1}, at::kLong).view({1, 6});
  EXPECT_TRUE(positions_from_mask(mask).equal(at::tensor({0, 1, 1, 1, 2, 3}, at::kLong).view({1, 6})));
}

TEST(Gpt2, LastRealIndex) {
  const at::Tensor mask = at::tensor({0, 1, 0, 0, 1, 0}, at::kLong).view({1, 6});
  EXPECT_TRUE(last_real_index(mask).equal(at::tensor({0, 1, 1, 1, 4, 4}, at::kLong).view({1, 6})));
}

TEST(Gpt2, KvCacheDecodingEqualsFullRecomputation) {
  Gpt2 model = load_gpt2(kData / "tiny-gpt2");
  at::NoGradGuard no_grad;
  // A right-padded and a left-padded context, then 6 tokens fed one at a time through the cache.
  const at::Tensor context = testing::long_matrix({{3, 9, 27, 514, 514}, {514, 514, 8, 200, 31}});
  const at::Tensor context_mask = context.ne(514).to(at::kLong);
  const at::Tensor steps = testing::long_matrix({{11, 12, 13, 14, 15, 16}, {21, 22, 23, 24, 25, 26}});
  KvCache cache = model->make_cache(2, 11);
  model->forward(context, context_mask, positions_from_mask(context_mask), &cache);
  at::Tensor next_position = context_mask.sum(1, true);
  std::vector<at::Tensor> incremental;
  for (int i = 0; i < 6; ++i) {
    const at::Tensor ids = steps.narrow(1, i, 1);
    incremental.push_back(model->forward(ids, at::ones({2, 1}, at::kLong), next_position + i, &cache));
  }
  const at::Tensor full_ids = at::cat({context, steps}, 1);
  const at::Tensor full_mask = at::cat({context_mask, at::ones({2, 6}, at::kLong)}, 1);
  const at::Tensor full = model->forward(full_ids, full_mask, positions_from_mask(full_mask));
  EXPECT_LT((at::cat(incremental, 1) - full.narrow(1, 5, 6)).abs().max().item<double>(), 1e-5);
}

TEST(Gpt2, GreedyContinuationsMatchReference) {
  const auto reference = nlohmann::json::parse(read_text_file(kData / "tiny-gpt2" / "reference.json"));
  Gpt2 model = load_gpt2(kData / "tiny-gpt2");
  at::NoGradGuard no_grad;
  ASSERT_FALSE(reference.at("greedy").empty());
  for (const auto& item : reference.at("greedy")) {
    std::vector<std::int64_t> ids = item.at("prompt").get<std::vector<std::int64_t>>();
    const auto expected = item.at("continuation").get<std::vector<std::int64_t>>();
    for (std::size_t step = 0; step < expected.size(); ++step) {
      const auto T = static_cast<std::int64_t>(ids.size());
      const at::Tensor input = at::tensor(ids, at::kLong).view({1, T});
      const at::Tensor mask = at::ones({1, T}, at::kLong);
      const at::Tensor logits = model->logits(model->forward(input, mask, positions_from_mask(mask)));
      ids.push_back(logits.select(1, T - 1).argmax(-1).item<std::int64_t>());
    }
    const std::vector<std::int64_t> continuation(ids.end() - expected.size(), ids.end());
    EXPECT_EQ(continuation, expected);
  }
}

}  // namespace
}  // namespace rlhf::model
