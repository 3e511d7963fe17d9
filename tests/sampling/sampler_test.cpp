// Sampling: the distribution drawn from, the filters, reproducibility, end-of-text handling, and the
// returned log-probabilities against a full recomputation without the KV cache.
#include <gtest/gtest.h>

#include <cmath>

#include "torch_test_util.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/util/error.h"

namespace rlhf::sampling {
namespace {

const std::filesystem::path kTinyModel = std::filesystem::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr int kPad = 514;  // outside the tiny model's 512-token vocabulary

// Frequencies of each token over `draws` draws from one row of logits [V].
std::vector<double> frequencies(const at::Tensor& logits, const SamplingOptions& options, int draws) {
  const at::Tensor batch = logits.unsqueeze(0).expand({draws, logits.size(0)}).contiguous();
  const at::Tensor tokens = choose_next(batch, options).first;
  const at::Tensor counts = at::bincount(tokens, {}, logits.size(0)).to(at::kDouble) / draws;
  return std::vector<double>(counts.data_ptr<double>(), counts.data_ptr<double>() + counts.numel());
}

TEST(ChooseNext, DrawsFromTheTemperatureScaledSoftmax) {
  compat::manual_seed(7);
  const at::Tensor logits = at::tensor({1.0f, 2.0f, 0.0f, 3.0f});
  SamplingOptions options;
  options.temperature = 2.0;
  const at::Tensor expected = (logits / 2.0).softmax(0);
  const auto freq = frequencies(logits, options, 200000);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(freq[i], expected[i].item<double>(), 0.005) << "token " << i;
}

TEST(ChooseNext, TopKKeepsOnlyTheKMostLikely) {
  compat::manual_seed(7);
  const at::Tensor logits = at::tensor({1.0f, 2.0f, 0.0f, 3.0f});
  SamplingOptions options;
  options.top_k = 2;
  const auto freq = frequencies(logits, options, 100000);
  EXPECT_EQ(freq[0], 0.0);
  EXPECT_EQ(freq[2], 0.0);
  // Renormalised over {1, 3}: e^2 / (e^2 + e^3) = 1 / (1 + e).
  EXPECT_NEAR(freq[1], 1.0 / (1.0 + std::exp(1.0)), 0.006);
}

TEST(ChooseNext, TopPKeepsTheSmallestNucleus) {
  compat::manual_seed(7);
  // probabilities 0.5, 0.3, 0.15, 0.05: top_p = 0.7 keeps {0, 1} (0.5 < 0.7, 0.8 >= 0.7).
  const at::Tensor logits = at::tensor({0.5f, 0.3f, 0.15f, 0.05f}).log();
  SamplingOptions options;
  options.top_p = 0.7;
  const auto freq = frequencies(logits, options, 100000);
  EXPECT_EQ(freq[2], 0.0);
  EXPECT_EQ(freq[3], 0.0);
  EXPECT_NEAR(freq[0], 0.5 / 0.8, 0.006);
}

TEST(ChooseNext, LogprobIsUnderTheScaledUnfilteredDistribution) {
  const at::Tensor logits = testing::float_matrix({{1.0f, 2.0f, 0.0f, 3.0f}});
  SamplingOptions options;
  options.temperature = 0.5;
  options.top_k = 1;
  const auto [token, logprob] = choose_next(logits, options);
  EXPECT_EQ(token.item<std::int64_t>(), 3);
  const double expected = (logits / 0.5).log_softmax(-1)[0][3].item<double>();
  EXPECT_NEAR(logprob.item<double>(), expected, 1e-6);
}

TEST(ChooseNext, ZeroTemperatureIsGreedy) {
  const at::Tensor logits = testing::float_matrix({{1.0f, 5.0f, 0.0f}, {9.0f, 2.0f, 3.0f}});
  SamplingOptions options;
  options.temperature = 0.0;
  const auto [tokens, logprobs] = choose_next(logits, options);
  EXPECT_TRUE(tokens.equal(at::tensor({1, 0}, at::kLong)));
  EXPECT_NEAR(logprobs[0].item<double>(), logits[0].log_softmax(0)[1].item<double>(), 1e-6);
}

TEST(SamplingOptions, RejectsBadValues) {
  SamplingOptions o;
  o.top_p = 0.0;
  EXPECT_THROW(validate(o), Error);
  o = {};
  o.temperature = -1;
  EXPECT_THROW(validate(o), Error);
  o = {};
  o.max_new_tokens = 0;
  EXPECT_THROW(validate(o), Error);
}

class SampleFromModel : public ::testing::Test {
 protected:
  void SetUp() override {
    model = model::load_gpt2(kTinyModel);
    // A right-padded and a left-padded prompt.
    context = testing::long_matrix({{3, 9, 27, 100, kPad, kPad}, {kPad, kPad, 8, 200, 31, 77}});
    mask = context.ne(kPad).to(at::kLong);
  }
  model::Gpt2 model{nullptr};
  at::Tensor context, mask;
};

TEST_F(SampleFromModel, ReproducibleFromTheSeed) {
  SamplingOptions options;
  options.max_new_tokens = 12;
  compat::manual_seed(5);
  const Samples a = sample(*model, context, mask, options);
  compat::manual_seed(5);
  const Samples b = sample(*model, context, mask, options);
  compat::manual_seed(6);
  const Samples c = sample(*model, context, mask, options);
  EXPECT_TRUE(a.tokens.equal(b.tokens));
  EXPECT_TRUE(a.logprobs.equal(b.logprobs));
  EXPECT_FALSE(a.tokens.equal(c.tokens));
}

TEST_F(SampleFromModel, FixedLengthByDefault) {
  SamplingOptions options;
  options.max_new_tokens = 10;
  const Samples s = sample(*model, context, mask, options);
  EXPECT_EQ(s.tokens.sizes(), at::IntArrayRef({2, 10}));
  EXPECT_TRUE(s.lengths.equal(at::full({2}, 10, at::kLong)));
  EXPECT_TRUE(s.tokens.lt(512).all().item<bool>());
}

// The log-probabilities returned with the samples (KV cache, padded contexts) equal those of a full
// forward pass over context + sample.
TEST_F(SampleFromModel, LogprobsEqualFullRecomputation) {
  compat::manual_seed(3);
  SamplingOptions options;
  options.temperature = 0.7;
  options.max_new_tokens = 8;
  const Samples s = sample(*model, context, mask, options);
  const at::Tensor ids = at::cat({context, s.tokens}, 1);
  const at::Tensor full_mask = at::cat({mask, at::ones({2, 8}, at::kLong)}, 1);
  const at::Tensor lp = token_logprobs(*model, ids, full_mask, 0.7).narrow(1, 6, 8);
  EXPECT_LT((lp - s.logprobs).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(s.logprobs.lt(0).all().item<bool>());
}

TEST_F(SampleFromModel, StopsAtEndOfTextWhenAsked) {
  SamplingOptions options;
  options.temperature = 0.0;
  options.max_new_tokens = 6;
  const Samples greedy = sample(*model, context, mask, options);
  // Declare row 0's third greedy token to be end-of-text: row 0 stops there, row 1 runs on (unless
  // the same token appears in it).
  options.stop_at_eos = true;
  options.eos_id = static_cast<int>(greedy.tokens[0][2].item<std::int64_t>());
  options.pad_id = kPad;
  const Samples stopped = sample(*model, context, mask, options);
  const auto first_eos = [&](int row) {
    for (int i = 0; i < 6; ++i) if (greedy.tokens[row][i].item<std::int64_t>() == options.eos_id) return i + 1;
    return 6;
  };
  for (int row = 0; row < 2; ++row) {
    const int length = first_eos(row);
    EXPECT_EQ(stopped.lengths[row].item<std::int64_t>(), length);
    EXPECT_TRUE(stopped.tokens[row].narrow(0, 0, length).equal(greedy.tokens[row].narrow(0, 0, length)));
    EXPECT_TRUE(stopped.tokens[row].narrow(0, length, 6 - length).eq(kPad).all().item<bool>());
    EXPECT_TRUE(stopped.logprobs[row].narrow(0, length, 6 - length).eq(0).all().item<bool>());
  }
}

TEST_F(SampleFromModel, TokenLogprobsLeavesPadsAndFirstTokenAtZero) {
  const at::Tensor lp = token_logprobs(*model, context, mask);
  EXPECT_EQ(lp[0][0].item<float>(), 0.0f);
  EXPECT_EQ(lp[0][4].item<float>(), 0.0f);
  EXPECT_EQ(lp[1][2].item<float>(), 0.0f);  // first real token of a left-padded row
  EXPECT_LT(lp[1][3].item<float>(), 0.0f);
}

}  // namespace
}  // namespace rlhf::sampling
