// The device checks of scripts/gpu_check.sh (docs/gpu.md): the same computations on the device under test
// and on the CPU in fp32, compared. The device comes from $RLHF_TEST_DEVICE (cuda, cuda:N or cpu;
// default cpu, where every comparison is CPU against CPU and only proves that the checks run). Not part
// of the ctest suite: scripts/gpu_check.sh runs this binary.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "rlhf/core/cuda_device.h"
#include "rlhf/core/runtime.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/optim/adam.h"
#include "rlhf/ppo/advantages.h"
#include "rlhf/ppo/benchmark.h"
#include "rlhf/ppo/losses.h"
#include "rlhf/ppo/policy.h"
#include "rlhf/ppo/rewards.h"
#include "rlhf/sampling/sampler.h"

namespace rlhf {
namespace {

// Tolerances. fp32 on a GPU differs from the CPU only by summation order (and TF32, which LibTorch
// leaves off for matmuls by default): 1e-4 absolute on logits of order 1. bf16 keeps 8 significant
// bits (relative rounding 2^-9 = 2e-3 per operation); through 4 layers the relative error of the
// logits, ||bf16 - fp32|| / ||fp32||, stays under 3e-2.
constexpr double kFp32LogitTolerance = 1e-4;
constexpr double kBf16RelativeTolerance = 3e-2;

at::Device device_under_test() {
  const char* name = std::getenv("RLHF_TEST_DEVICE");
  return core::resolve_device(name != nullptr && *name != '\0' ? name : "cpu");
}

// A GPT-2 small enough to check quickly, wide enough that the kernels are the real ones
// (4 layers, 8 heads of 32, vocabulary 1000). Same weights on every call for a given seed.
model::Gpt2Config test_config() {
  model::Gpt2Config c;
  c.vocab_size = 1000;
  c.n_positions = 128;
  c.n_embd = 256;
  c.n_layer = 4;
  c.n_head = 8;
  return c;
}

model::Gpt2 make_model(std::uint64_t seed) {
  compat::manual_seed(seed);
  model::Gpt2 m(test_config());
  m->init_weights(0.02);
  m->eval();
  return m;
}

// Copies `source`'s weights into a fresh model on `device` (same architecture).
model::Gpt2 copy_to(const model::Gpt2& source, const at::Device& device, at::ScalarType dtype = at::kFloat) {
  model::Gpt2 copy(source->config());
  {
    at::NoGradGuard no_grad;
    auto from = source->named_parameters();
    for (auto& item : copy->named_parameters()) item.value().copy_(*from.find(item.key()));
  }
  copy->to(device, dtype);
  copy->eval();
  return copy;
}

// A left- and right-padded batch: ids [B, T] and mask [B, T] (CPU), positions from the mask.
struct Batch {
  at::Tensor ids, mask, positions;
};

Batch padded_batch(std::int64_t B, std::int64_t T, int vocab) {
  at::Generator g = at::detail::createCPUGenerator(7);
  Batch b;
  b.ids = at::randint(vocab, {B, T}, g, at::kLong);
  b.mask = at::ones({B, T}, at::kBool);
  for (std::int64_t r = 0; r < B; ++r) {
    const std::int64_t pads = (r * 3) % (T / 2);
    if (r % 2 == 0) {
      b.mask[r].narrow(0, 0, pads).fill_(false);  // left padding
    } else {
      b.mask[r].narrow(0, T - pads, pads).fill_(false);  // right padding
    }
  }
  b.positions = model::positions_from_mask(b.mask);
  return b;
}

at::Tensor logits_of(model::Gpt2Impl& m, const Batch& b, const at::Device& device) {
  at::NoGradGuard no_grad;
  const at::Tensor hidden = m.forward(b.ids.to(device), b.mask.to(device), b.positions.to(device));
  return m.logits(hidden).to(at::kCPU, at::kFloat);  // [B, T, V]
}

double max_abs_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kCPU, at::kDouble) - b.to(at::kCPU, at::kDouble)).abs().max().item<double>();
}

double relative_difference(const at::Tensor& a, const at::Tensor& ref) {
  const at::Tensor r = ref.to(at::kCPU, at::kDouble);
  return (a.to(at::kCPU, at::kDouble) - r).norm().item<double>() / r.norm().item<double>();
}

class DeviceParity : public ::testing::Test {
 protected:
  void SetUp() override {
    device = device_under_test();
    RecordProperty("device", device.str());
  }
  at::Device device = at::kCPU;
};

TEST_F(DeviceParity, LogitsMatchTheCpuInFp32) {
  model::Gpt2 cpu = make_model(11);
  model::Gpt2 dev = copy_to(cpu, device);
  const Batch b = padded_batch(6, 40, test_config().vocab_size);
  const double error = max_abs_difference(logits_of(*dev, b, device), logits_of(*cpu, b, at::kCPU));
  RecordProperty("max_abs_logit_error_fp32", std::to_string(error));
  EXPECT_LE(error, kFp32LogitTolerance);
}

TEST_F(DeviceParity, Bf16LogitsStayWithinTheStatedBoundOfFp32) {
  model::Gpt2 cpu = make_model(12);
  model::Gpt2 dev = copy_to(cpu, device, at::kBFloat16);
  const Batch b = padded_batch(6, 40, test_config().vocab_size);
  const at::Tensor reference = logits_of(*cpu, b, at::kCPU);
  const double error = relative_difference(logits_of(*dev, b, device), reference);
  RecordProperty("relative_logit_error_bf16", std::to_string(error));
  EXPECT_LE(error, kBf16RelativeTolerance);
  EXPECT_GT(error, 0.0) << "bf16 weights must change the logits a little; equal means bf16 did not apply";
}

TEST_F(DeviceParity, KvCacheDecodingMatchesTheFullForwardAndTheCpu) {
  // Prefill 12 tokens, then 8 one at a time through the cache; the logits of each step must equal those
  // of one full forward over all 20 tokens, on the device and against the CPU.
  model::Gpt2 cpu = make_model(13);
  model::Gpt2 dev = copy_to(cpu, device);
  const std::int64_t B = 4, Tc = 12, N = 8;
  Batch full = padded_batch(B, Tc + N, test_config().vocab_size);
  full.mask.narrow(1, Tc, N).fill_(true);  // decoded tokens are real
  full.positions = model::positions_from_mask(full.mask);
  at::NoGradGuard no_grad;
  model::KvCache cache = dev->make_cache(B, Tc + N);
  const at::Tensor ids = full.ids.to(device), mask = full.mask.to(device), positions = full.positions.to(device);
  std::vector<at::Tensor> steps;
  steps.push_back(dev->logits(dev->forward(ids.narrow(1, 0, Tc), mask.narrow(1, 0, Tc), positions.narrow(1, 0, Tc),
                                           &cache).narrow(1, Tc - 1, 1)));
  for (std::int64_t i = Tc; i < Tc + N - 1; ++i) {
    steps.push_back(dev->logits(dev->forward(ids.narrow(1, i, 1), mask.narrow(1, i, 1), positions.narrow(1, i, 1),
                                             &cache)));
  }
  const at::Tensor cached = at::cat(steps, 1).to(at::kCPU);              // [B, N, V]: predictions of tokens Tc..
  const at::Tensor whole = logits_of(*dev, full, device).narrow(1, Tc - 1, N);  // the same, without a cache
  const at::Tensor on_cpu = logits_of(*cpu, full, at::kCPU).narrow(1, Tc - 1, N);
  const double cache_error = max_abs_difference(cached, whole), cpu_error = max_abs_difference(cached, on_cpu);
  RecordProperty("max_abs_kv_cache_error", std::to_string(cache_error));
  RecordProperty("max_abs_kv_cache_vs_cpu_error", std::to_string(cpu_error));
  EXPECT_LE(cache_error, kFp32LogitTolerance);
  EXPECT_LE(cpu_error, kFp32LogitTolerance);
}

TEST_F(DeviceParity, GreedySamplingMatchesTheCpuAndSampledLogprobsAreConsistent) {
  model::Gpt2 cpu = make_model(14);
  model::Gpt2 dev = copy_to(cpu, device);
  const Batch b = padded_batch(6, 16, test_config().vocab_size);
  sampling::SamplingOptions greedy;
  greedy.temperature = 0.0;
  greedy.max_new_tokens = 12;
  const sampling::Samples on_device = sampling::sample(*dev, b.ids.to(device), b.mask.to(device), greedy);
  const sampling::Samples on_cpu = sampling::sample(*cpu, b.ids, b.mask, greedy);
  const double mismatch = on_device.tokens.cpu().ne(on_cpu.tokens).to(at::kDouble).mean().item<double>();
  RecordProperty("greedy_token_mismatch_fraction", std::to_string(mismatch));
  EXPECT_EQ(mismatch, 0.0) << "greedy decoding on the device chose other tokens than on the CPU";

  // Temperature sampling on the device: the log-probabilities the sampler returns are those a separate
  // forward over query + sample gives (same device).
  sampling::SamplingOptions warm;
  warm.temperature = 0.7;
  warm.max_new_tokens = 12;
  const sampling::Samples s = sampling::sample(*dev, b.ids.to(device), b.mask.to(device), warm);
  const at::Tensor ids = at::cat({b.ids.to(device), s.tokens}, 1);
  const at::Tensor mask = at::cat({b.mask.to(device), at::ones_like(s.tokens, s.tokens.options().dtype(at::kBool))}, 1);
  const at::Tensor recomputed = sampling::token_logprobs(*dev, ids, mask, warm.temperature).narrow(1, 16, 12);
  const double error = max_abs_difference(s.logprobs, recomputed);
  RecordProperty("max_abs_sampled_logprob_error", std::to_string(error));
  EXPECT_LE(error, kFp32LogitTolerance);
}

// One PPO update (the trainer's steps: KL-penalised rewards, whitening, GAE, the clipped policy and value
// losses, backward, Adam in the paper's TensorFlow form) from one fixed rollout, on the device and on the
// CPU in fp32: the losses, the gradient norm and the updated weights agree.
struct PpoStepResult {
  double policy_loss = 0, value_loss = 0, grad_norm = 0;
  std::vector<at::Tensor> weights;  // CPU, after the step
};

PpoStepResult ppo_step(const model::Gpt2& initial, const at::Device& device) {
  const std::int64_t B = 8, Tc = 10, N = 6;
  at::Generator g = at::detail::createCPUGenerator(21);
  const at::Tensor context = at::randint(test_config().vocab_size, {B, Tc}, g, at::kLong).to(device);
  const at::Tensor mask = at::ones({B, Tc}, at::kBool).to(device);
  const at::Tensor response = at::randint(test_config().vocab_size, {B, N}, g, at::kLong).to(device);
  const at::Tensor old_noise = (at::randn({B, N}, g) * 0.05).to(device);
  const at::Tensor ref_noise = (at::randn({B, N}, g) * 0.1).to(device);
  const at::Tensor score = at::randn({B}, g).to(device);
  const at::Tensor old_values = (at::randn({B, N}, g) * 0.1).to(device);
  const at::Tensor head = at::randn({1, test_config().n_embd}, g) * 0.02;

  ppo::Policy policy(copy_to(initial, device));
  {
    at::NoGradGuard no_grad;  // a non-zero value head, so the value loss has a gradient to pass down
    policy->v_head->weight.copy_(head);
  }
  policy->to(device);
  policy->train();
  // The rollout's log-probabilities: near the policy's own, so the PPO ratio is near 1 and most terms
  // are unclipped (and carry a gradient).
  at::Tensor old_logprobs;
  {
    at::NoGradGuard no_grad;
    old_logprobs = policy->analyze(context, mask, response, 0.7).logprobs + old_noise;
  }
  const at::Tensor ref_logprobs = old_logprobs + ref_noise;
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const auto& item : policy->named_parameters()) params.emplace_back(item.key(), item.value());
  optim::Adam adam(params, optim::AdamOptions{});

  const at::Tensor rewards =
      ppo::whiten(ppo::kl_penalized_rewards(score, ppo::per_token_kl(old_logprobs, ref_logprobs), 0.15), false);
  const ppo::Gae gae = ppo::compute_gae(rewards, old_values, 1.0, 0.95);
  const ppo::ResponseAnalysis a = policy->analyze(context, mask, response, 0.7);
  const ppo::PolicyLoss pl = ppo::policy_loss(a.logprobs, old_logprobs, gae.advantages, 0.2);
  const ppo::ValueLoss vl = ppo::value_loss(a.values, old_values, gae.returns, 0.2);
  adam.zero_grad();
  (pl.loss + 0.1 * vl.loss).backward();
  PpoStepResult out;
  out.policy_loss = pl.loss.item<double>();
  out.value_loss = vl.loss.item<double>();
  double norm_sq = 0;
  for (const auto& [name, p] : adam.params()) {
    if (p.grad().defined()) norm_sq += p.grad().to(at::kDouble).pow(2).sum().item<double>();
  }
  out.grad_norm = std::sqrt(norm_sq);
  adam.step(1e-4);
  for (const auto& [name, p] : adam.params()) out.weights.push_back(p.detach().to(at::kCPU).clone());
  return out;
}

TEST_F(DeviceParity, OnePpoUpdateMatchesTheCpuInFp32) {
  model::Gpt2 initial = make_model(15);
  const PpoStepResult dev = ppo_step(initial, device), cpu = ppo_step(initial, at::kCPU);
  const double pg_error = std::abs(dev.policy_loss - cpu.policy_loss) / std::max(1e-3, std::abs(cpu.policy_loss));
  const double vf_error = std::abs(dev.value_loss - cpu.value_loss) / std::max(1e-3, std::abs(cpu.value_loss));
  const double norm_error = std::abs(dev.grad_norm - cpu.grad_norm) / cpu.grad_norm;
  double weight_error = 0;
  for (std::size_t i = 0; i < cpu.weights.size(); ++i) {
    weight_error = std::max(weight_error, max_abs_difference(dev.weights[i], cpu.weights[i]));
  }
  RecordProperty("ppo_policy_loss_relative_error", std::to_string(pg_error));
  RecordProperty("ppo_value_loss_relative_error", std::to_string(vf_error));
  RecordProperty("ppo_grad_norm_relative_error", std::to_string(norm_error));
  RecordProperty("ppo_max_abs_weight_error_after_step", std::to_string(weight_error));
  EXPECT_GT(cpu.grad_norm, 0.0);
  EXPECT_LE(pg_error, 1e-4);
  EXPECT_LE(vf_error, 1e-4);
  EXPECT_LE(norm_error, 1e-4);
  // Adam moves each weight by at most about lr = 1e-4; a coordinate whose gradient is near zero can move
  // differently on the two devices, so the bound is a fraction of one step.
  EXPECT_LE(weight_error, 2e-5);
}

// The sync-debug check: a whole PPO batch (rollout, reference, rewards, four epochs of training) with
// host synchronisation forbidden inside the rollout stages and the minibatch loop. On CUDA any .item(),
// blocking copy or stream synchronisation there throws; on the CPU nothing can be checked.
TEST_F(DeviceParity, PpoBatchRunsWithoutHostSynchronisationInItsLoops) {
  core::Runtime runtime;
  runtime.device = device;
  runtime.seed = 3;
  ppo::BenchmarkOptions o;
  o.batch_size = 16;
  o.query_length = 12;
  o.response_length = 8;
  o.microbatch_size = 8;
  o.noptepochs = 2;
  o.batches = 1;
  o.warmup = 1;  // the first batch runs the one-time preflight guard, which synchronises by design
  o.reward_model = true;
  o.forbid_sync = true;
  RecordProperty("sync_debug_checked", core::sync_debug_supported() && device.is_cuda() ? "true" : "false");
  nlohmann::ordered_json result;
  EXPECT_NO_THROW(result = ppo::benchmark(test_config(), o, runtime));
  EXPECT_GT(result.value("episodes_per_s", 0.0), 0.0);
}

TEST_F(DeviceParity, TheSyncGuardCatchesASynchronisation) {
  // The negative control of the test above: .item() under the guard must throw on CUDA.
  if (!(core::sync_debug_supported() && device.is_cuda())) {
    GTEST_SKIP() << "sync-debug mode exists only on CUDA builds and devices";
  }
  const at::Tensor x = at::ones({4}, at::TensorOptions().device(device));
  core::SyncDebugGuard guard(true);
  EXPECT_THROW(x.sum().item<double>(), c10::Error);
}

TEST_F(DeviceParity, PeakMemoryIsReported) {
  core::reset_peak_memory(device);
  const at::Tensor big = at::ones({1 << 22}, at::TensorOptions().device(device));  // 16 MiB
  compat::synchronize(device);
  const core::PeakMemory m = core::peak_memory(device);
  RecordProperty("peak_memory_source", m.source);
  if (device.is_cuda()) {
    EXPECT_GE(m.allocated_bytes, 16 << 20);
    EXPECT_GE(m.reserved_bytes, m.allocated_bytes);
  } else {
    EXPECT_GE(m.allocated_bytes, 16 << 20);  // the tensor is resident: ones() wrote every page
    EXPECT_GE(m.reserved_bytes, m.allocated_bytes);
  }
  EXPECT_EQ(big.numel(), 1 << 22);
}

}  // namespace
}  // namespace rlhf
