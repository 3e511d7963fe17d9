// The policy with its value head, the response analysis against the sampler's own log-probabilities,
// saving in Hugging Face's layout, and the programmatic reward.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "rlhf/formats/tensor_file.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/ppo/policy.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "torch_test_util.h"

namespace rlhf::ppo {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::long_matrix;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr int kPad = 50259;

TEST(PpoPolicy, ValueHeadStartsAtZero) {
  Policy policy = load_policy(kTiny);
  EXPECT_EQ(policy->v_head->weight.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(policy->v_head->bias.abs().sum().item<float>(), 0.0f);
  const at::Tensor context = long_matrix({{10, 20, 30, kPad}, {40, 50, kPad, kPad}});
  const ResponseAnalysis a = policy->analyze(context, context.ne(kPad), long_matrix({{1, 2, 3}, {4, 5, 6}}), 0.7, true);
  EXPECT_EQ(a.values.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(a.logprobs.sizes(), (at::IntArrayRef{2, 3}));
  EXPECT_TRUE(a.entropy.gt(0).all().item<bool>());
}

TEST(PpoPolicy, LogprobsMatchTheSamplersAndTokenLogprobsAtTheTemperature) {
  // Three implementations of log p(response | context) at T = 0.7: the sampler's incremental KV-cache
  // path, sampling::token_logprobs over the whole padded sequence, and analyze_responses.
  at::manual_seed(5);
  Policy policy = load_policy(kTiny);
  const at::Tensor context = long_matrix({{10, 20, 30, kPad}, {40, kPad, kPad, kPad}});
  const at::Tensor mask = context.ne(kPad);
  sampling::SamplingOptions options;
  options.temperature = 0.7;
  options.max_new_tokens = 6;
  const sampling::Samples samples = sampling::sample(*policy->trunk, context, mask, options);
  const ResponseAnalysis a = policy->analyze(context, mask, samples.tokens, 0.7);
  EXPECT_TRUE(at::allclose(a.logprobs, samples.logprobs, 1e-4, 1e-4)) << a.logprobs << samples.logprobs;

  const at::Tensor ids = at::cat({context, samples.tokens}, 1);
  const at::Tensor full_mask = at::cat({mask, at::ones_like(samples.tokens, at::kBool)}, 1);
  const at::Tensor token_lp = sampling::token_logprobs(*policy->trunk, ids, full_mask, 0.7).narrow(1, 4, 6);
  EXPECT_TRUE(at::allclose(a.logprobs, token_lp, 1e-5, 1e-5));
}

TEST(PpoPolicy, SavesInHuggingFaceLayoutWithTheValueHead) {
  const fs::path dir = fs::temp_directory_path() / ("rlhf_ppo_policy_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Policy policy = load_policy(kTiny);
  {
    at::NoGradGuard no_grad;
    policy->v_head->weight.normal_();
    policy->v_head->bias.fill_(0.25);
  }
  const auto tokenizer = tokenizer::load_tokenizer(kTiny);
  policy->save(dir, tokenizer.get());
  for (const char* file : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) {
    EXPECT_TRUE(fs::exists(dir / file)) << file;
  }
  const auto weights = formats::TensorFile::open(dir / "model.safetensors");
  EXPECT_NE(weights.find("transformer.h.0.attn.c_attn.weight"), nullptr);
  EXPECT_NE(weights.find("v_head.weight"), nullptr);
  EXPECT_NE(weights.find("v_head.bias"), nullptr);

  Policy loaded = load_policy(dir);
  EXPECT_TRUE(loaded->v_head->weight.equal(policy->v_head->weight));
  EXPECT_TRUE(loaded->v_head->bias.equal(policy->v_head->bias));
  EXPECT_TRUE(loaded->trunk->wte->weight.equal(policy->trunk->wte->weight));
  // A plain GPT-2 loader reads it too (the value head is left aside).
  EXPECT_NO_THROW(model::load_gpt2(dir));
  fs::remove_all(dir);
}

TEST(PpoReward, TokenCountCountsTheTokenAndNeverThePads) {
  TokenCountReward reward(7);
  const at::Tensor query = long_matrix({{7, 7, kPad}, {1, 2, 3}});
  const at::Tensor response = long_matrix({{7, 1, 7, 7}, {2, 13, kPad, kPad}});
  const at::Tensor s = reward.score(query, response);  // the query's 7s do not count
  EXPECT_EQ(s.scalar_type(), at::kFloat);
  EXPECT_TRUE(s.equal(at::tensor({3.0f, 0.0f})));
  EXPECT_EQ(reward.name(), "token_count(7)");
}

TEST(PpoReward, FactoryNeedsWhatTheKindNeeds) {
  core::Runtime runtime;
  RewardOptions options;
  options.kind = "token_count";
  try {
    make_reward_function(options, runtime, kPad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("reward.token"));
  }
  options.token = 3;
  EXPECT_EQ(make_reward_function(options, runtime, kPad)->name(), "token_count(3)");
  options.kind = "model";
  try {
    make_reward_function(options, runtime, kPad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("reward.model_dir"));
  }
}

}  // namespace
}  // namespace rlhf::ppo
