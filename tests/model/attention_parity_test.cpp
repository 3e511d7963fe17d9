// compat::attention (at::scaled_dot_product_attention on LibTorch >= 2.0, the math path on 1.13)
// against attention written out here (matmul, scale, mask, softmax, matmul), with the masks the
// model builds: causal, never a pad key, and always the query's own position, so a pad query row is
// never all masked (SDPA returns NaN for such a row). Then the whole model: logits of the real tokens
// do not depend on where the pads sit (left or right), with and without the KV cache. fp32
// tolerance 1e-5 (the kernels only reorder sums of a few dozen terms).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/model/gpt2.h"
#include "torch_test_util.h"

namespace rlhf::model {
namespace {

const std::filesystem::path kTiny = std::filesystem::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr double kFp32Tolerance = 1e-5;
constexpr std::int64_t kPad = 514;  // outside the tiny model's vocabulary of 512

// softmax(q k^T / sqrt(D) masked to -inf where not allowed) v. q: [B, H, Tq, D], k, v: [B, H, Tk, D],
// allowed: bool [B, 1, Tq, Tk].
at::Tensor explicit_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) * scale;  // [B, H, Tq, Tk]
  const at::Tensor masked = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(masked, -1), v);
}

// The paper's convention as the model applies it, written independently: the Tq queries are the
// last Tq of the Tk keys; query i may see key j when j <= i and key j is real, and always itself.
// key_is_real: bool [B, Tk] -> bool [B, 1, Tq, Tk].
at::Tensor convention_mask(const at::Tensor& key_is_real, std::int64_t Tq) {
  const auto B = key_is_real.size(0), Tk = key_is_real.size(1);
  at::Tensor allowed = at::zeros({B, 1, Tq, Tk}, at::kBool);
  auto a = allowed.accessor<bool, 4>();
  auto real = key_is_real.accessor<bool, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t i = 0; i < Tq; ++i) {
      const std::int64_t query_position = Tk - Tq + i;
      for (std::int64_t j = 0; j <= query_position; ++j) a[b][0][i][j] = real[b][j] || j == query_position;
    }
  }
  return allowed;
}

// Rows of 5, 3 and 1 real tokens in 6 positions, padded on the left or on the right: bool [3, 6].
at::Tensor padding_mask(bool left) {
  at::Tensor mask = at::zeros({3, 6}, at::kBool);
  const std::int64_t lengths[] = {5, 3, 1};
  for (std::int64_t b = 0; b < 3; ++b) {
    mask[b].narrow(0, left ? 6 - lengths[b] : 0, lengths[b]).fill_(true);
  }
  return mask;
}

class AttentionParity : public ::testing::TestWithParam<bool> {};  // true = left padding

TEST_P(AttentionParity, MatchesExplicitAttentionOnPaddedBatch) {
  at::manual_seed(3);
  const at::Tensor q = at::randn({3, 2, 6, 8}), k = at::randn({3, 2, 6, 8}), v = at::randn({3, 2, 6, 8});
  const at::Tensor allowed = convention_mask(padding_mask(GetParam()), 6);
  const at::Tensor fused = compat::attention(q, k, v, allowed);
  const at::Tensor expected = explicit_attention(q, k, v, allowed);
  ASSERT_EQ(fused.sizes(), expected.sizes());
  EXPECT_TRUE(fused.isfinite().all().item<bool>()) << "a pad query row came out NaN";
  EXPECT_LT((fused - expected).abs().max().item<double>(), kFp32Tolerance);
}

TEST_P(AttentionParity, MatchesExplicitAttentionWithCachedKeys) {
  // Decoding: 2 new queries against 6 cached + 2 new keys (the cache's key_is_real: context padding,
  // then the real new tokens).
  at::manual_seed(4);
  const at::Tensor key_is_real = at::cat({padding_mask(GetParam()), at::ones({3, 2}, at::kBool)}, 1);  // [3, 8]
  const at::Tensor q = at::randn({3, 2, 2, 8}), k = at::randn({3, 2, 8, 8}), v = at::randn({3, 2, 8, 8});
  const at::Tensor allowed = convention_mask(key_is_real, 2);
  const at::Tensor fused = compat::attention(q, k, v, allowed);
  EXPECT_LT((fused - explicit_attention(q, k, v, allowed)).abs().max().item<double>(), kFp32Tolerance);
}

INSTANTIATE_TEST_SUITE_P(Padding, AttentionParity, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Left" : "Right"; });

TEST(AttentionMask, AllMaskedRowIsWhyPadQueriesSeeThemselves) {
  // The hazard the convention avoids: a row with no allowed key is NaN (-inf everywhere in softmax).
  at::Tensor allowed = convention_mask(padding_mask(/*left=*/true), 6);
  allowed[2][0][0].fill_(false);  // row 2's first query is a pad: without "itself" it sees nothing
  const at::Tensor q = at::randn({3, 1, 6, 4}), k = at::randn({3, 1, 6, 4}), v = at::randn({3, 1, 6, 4});
  EXPECT_TRUE(explicit_attention(q, k, v, allowed)[2][0][0].isnan().all().item<bool>());
  // With the convention every row allows at least one key.
  EXPECT_TRUE(convention_mask(padding_mask(true), 6).any(-1).all().item<bool>());
  EXPECT_TRUE(convention_mask(at::zeros({2, 5}, at::kBool), 5).any(-1).all().item<bool>());
}

TEST(AttentionMask, ModelOutputsAreFiniteForAllPadRows) {
  Gpt2 model = load_gpt2(kTiny);
  at::NoGradGuard no_grad;
  const at::Tensor ids = testing::long_matrix({{kPad, kPad, kPad, kPad}, {kPad, kPad, 7, 8}});
  const at::Tensor mask = ids.ne(kPad);
  EXPECT_TRUE(model->forward(ids, mask, positions_from_mask(mask)).isfinite().all().item<bool>());
  KvCache cache = model->make_cache(2, 5);
  model->forward(ids, mask, positions_from_mask(mask), &cache);
  const at::Tensor step = model->forward(testing::long_matrix({{3}, {4}}), at::ones({2, 1}, at::kBool),
                                         mask.sum(1, true), &cache);
  EXPECT_TRUE(step.isfinite().all().item<bool>());
}

// Rows of different lengths padded on either side: ids [3, 6] and mask [3, 6].
std::pair<at::Tensor, at::Tensor> padded_rows(bool left) {
  const std::vector<std::vector<std::int64_t>> rows = {{5, 17, 300, 42, 7}, {9, 81, 4}, {250}};
  const at::Tensor mask = padding_mask(left);
  at::Tensor ids = at::full({3, 6}, kPad, at::kLong);
  for (std::int64_t b = 0; b < 3; ++b) {
    const auto n = static_cast<std::int64_t>(rows[b].size());
    ids[b].narrow(0, left ? 6 - n : 0, n).copy_(at::tensor(rows[b], at::kLong));
  }
  return {ids, mask};
}

TEST(PaddingParity, LogitsOfRealTokensAgreeLeftAndRight) {
  Gpt2 model = load_gpt2(kTiny);
  at::NoGradGuard no_grad;
  auto [left_ids, left_mask] = padded_rows(true);
  auto [right_ids, right_mask] = padded_rows(false);
  const at::Tensor left = model->logits(model->forward(left_ids, left_mask, positions_from_mask(left_mask)));
  const at::Tensor right = model->logits(model->forward(right_ids, right_mask, positions_from_mask(right_mask)));
  ASSERT_TRUE(left.isfinite().all().item<bool>() && right.isfinite().all().item<bool>());
  for (std::int64_t b = 0; b < 3; ++b) {
    const at::Tensor l = left[b].index_select(0, left_mask[b].nonzero().squeeze(1));
    const at::Tensor r = right[b].index_select(0, right_mask[b].nonzero().squeeze(1));
    EXPECT_LT((l - r).abs().max().item<double>(), kFp32Tolerance) << "row " << b;
  }
}

TEST(PaddingParity, CachedDecodingAgreesLeftAndRight) {
  // Left-padded contexts (the sampler's layout) and right-padded ones (the paper's), each continued by
  // the same 3 tokens through the KV cache: the continuation's logits agree.
  Gpt2 model = load_gpt2(kTiny);
  at::NoGradGuard no_grad;
  const at::Tensor steps = testing::long_matrix({{11, 12, 13}, {21, 22, 23}, {31, 32, 33}});
  auto decode = [&](bool left) {
    auto [ids, mask] = padded_rows(left);
    KvCache cache = model->make_cache(3, 9);
    model->forward(ids, mask, positions_from_mask(mask), &cache);
    const at::Tensor next_position = mask.sum(1, true);
    std::vector<at::Tensor> out;
    for (int i = 0; i < 3; ++i) {
      out.push_back(model->logits(
          model->forward(steps.narrow(1, i, 1), at::ones({3, 1}, at::kBool), next_position + i, &cache)));
    }
    return at::cat(out, 1);  // [3, 3, V]
  };
  const at::Tensor left = decode(true), right = decode(false);
  ASSERT_TRUE(left.isfinite().all().item<bool>());
  EXPECT_LT((left - right).abs().max().item<double>(), kFp32Tolerance);
}

}  // namespace
}  // namespace rlhf::model
