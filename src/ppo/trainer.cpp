#include "rlhf/ppo/trainer.h"

#include <spdlog/spdlog.h>

#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>

#include "rlhf/core/cuda_device.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/optim/adam.h"
#include "rlhf/ppo/advantages.h"
#include "rlhf/ppo/losses.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::ppo {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start, const at::Device& device) {
  core::SyncDebugGuard allowed(false);  // a timing's one deliberate synchronisation
  compat::synchronize(device);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

bool all_finite(const at::Tensor& t) {
  return t.isfinite().all().item<bool>();
}

// The first part of a rollout that holds NaN or Inf, described; "" when all are finite. One copy to the host.
std::string nonfinite_rollout_part(const Rollout& r, const std::string& reward_name) {
  const at::Tensor finite =
      at::stack({r.logprobs.isfinite().all(), r.ref_logprobs.isfinite().all(), r.score.isfinite().all()}).cpu();
  const auto ok = finite.accessor<bool, 1>();
  if (!ok[0]) return "the policy's log-probabilities (its logits are not finite)";
  if (!ok[1]) return "the reference policy's log-probabilities";
  if (!ok[2]) return "the score (reward function " + reward_name + ")";
  return "";
}

std::string loss_fault_message(const std::string& where, double loss, double policy, double value) {
  return where + ": the loss is " + std::to_string(loss) + " (policy " + std::to_string(policy) + ", value " +
         std::to_string(value) + ")";
}

// The first line of a LibTorch error (the rest is a C++ stack).
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::uint64_t batch_seed(std::uint64_t seed, std::int64_t batch) {
  return splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(batch));
}

QuerySource dataset_queries(std::shared_ptr<const data::QueryDataset> dataset) {
  return [dataset](std::int64_t batch_index, std::int64_t batch_size, const at::Device& device) {
    return make_query_batch(
        *dataset, dataset->batch_indices(static_cast<std::size_t>(batch_index), static_cast<std::size_t>(batch_size)),
        device);
  };
}

PpoParts load_parts(const TrainPolicyConfig& config, const core::Runtime& runtime) {
  if (config.model.empty()) throw Error("model: no initial policy given (--model DIR)");
  PpoParts parts;
  parts.tokenizer = tokenizer::load_tokenizer(config.model);
  auto dataset =
      std::make_shared<const data::QueryDataset>(data::QueryDataset::load(config.task.queries, *parts.tokenizer));
  parts.queries = dataset_queries(dataset);
  parts.policy = load_policy(config.model);
  parts.reference = model::load_gpt2(config.model);
  parts.reward = make_reward_function(config.reward, runtime, config.task.queries.pad_id, parts.tokenizer);
  return parts;
}

// Per-batch training statistics: sums over minibatches, averaged at the end. The sums stay on the device
// (0-dim double tensors, added in the order the host used to add them, so the values are the same) and
// reach the host once per batch, with the batch's other scalars.
struct PpoTrainer::TrainStats {
  enum Sum { PolicyLoss, ValueLoss, PolicyClipfrac, ValueClipfrac, Approxkl, Entropy, ExplainedVariance,
             ReturnsMean, NumSums };
  std::vector<at::Tensor> sums;
  int minibatches = 0;
  int skipped_minibatches = 0;  // on_nonfinite = skip: minibatch updates dropped for a NaN or Inf
  int overflow_skips = 0;       // fp16: updates skipped by the loss scaler (gradients overflowed)

  explicit TrainStats(const at::Device& device) {
    for (int i = 0; i < NumSums; ++i) sums.push_back(at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device)));
  }
  void add(Sum which, const at::Tensor& value, double weight = 1.0) {
    const at::Tensor v = value.detach().to(at::kDouble);
    sums[which] = sums[which] + (weight == 1.0 ? v : v * weight);
  }
  // The minibatch statistics of `o` (a kept minibatch's update).
  void add(const TrainStats& o) {
    for (int i = PolicyLoss; i <= Entropy; ++i) sums[i] = sums[i] + o.sums[i];
  }
};

PpoTrainer::PpoTrainer(TrainPolicyConfig config, const core::Runtime& runtime, PpoParts parts)
    : config_(std::move(config)),
      runtime_(runtime),
      parts_(std::move(parts)),
      kl_(config_.kl),
      trend_(config_.guards.trend_window, config_.guards.trend_t) {
  config::validate_config(config_);
  if (!parts_.policy || !parts_.reference || !parts_.reward || !parts_.queries) {
    throw Error("PpoTrainer: policy, reference, reward and queries must all be given");
  }
  const auto& task = config_.task;
  rollout_options_.response_length = task.response_length;
  rollout_options_.temperature = task.temperature;
  rollout_options_.truncation = {task.truncate_token, task.truncate_after, task.queries.pad_id,
                                 task.penalty_reward_value};
  rollout_options_.rollout_batch_size = config_.ppo.rollout_batch_size;
  rollout_options_.forward_batch_size = config_.ppo.forward_batch_size;
  precision_ = core::train_precision(runtime_);
  rollout_options_.precision = precision_;
  optim::LossScalerOptions scaling;
  scaling.enabled = precision_.loss_scaling();
  scaler_ = optim::LossScaler(scaling);

  // A float64 policy stays float64, and so does its reference: tests compare one PPO step with a float64
  // reference implementation (tests/ppo/ppo_golden_test.cpp). Everything else trains an fp32 policy.
  const bool float64 = parts_.policy->trunk->dtype() == at::kDouble;
  parts_.policy->to(runtime_.device, float64 ? at::kDouble : at::kFloat);
  parts_.policy->train();
  const at::ScalarType ref_dtype = float64 ? at::kDouble : core::precision_dtype(runtime_.precision);
  if (ref_dtype == at::kHalf && runtime_.device.is_cpu()) {
    throw Error("precision: fp16 is not supported on the CPU (use fp32 or bf16)");
  }
  parts_.reference->to(runtime_.device, ref_dtype);
  parts_.reference->eval();
  for (auto& p : parts_.reference->parameters()) p.set_requires_grad(false);
  if (parts_.policy->trunk->config().vocab_size != parts_.reference->config().vocab_size) {
    throw Error("reference: vocabulary of " + std::to_string(parts_.reference->config().vocab_size) +
                " differs from the policy's " + std::to_string(parts_.policy->trunk->config().vocab_size));
  }

  std::vector<std::pair<std::string, at::Tensor>> params;
  for (const auto& item : parts_.policy->named_parameters()) params.emplace_back(item.key(), item.value());
  optim::AdamOptions adam;
  adam.beta1 = config_.ppo.adam_beta1;
  adam.beta2 = config_.ppo.adam_beta2;
  adam.eps = config_.ppo.adam_eps;
  adam.style = config_.ppo.adam_tf_epsilon ? optim::AdamStyle::TensorFlow : optim::AdamStyle::PyTorch;
  optimizer_ = std::make_unique<optim::Adam>(std::move(params), adam);
  times_ = {{"sample", 0.0}, {"policy", 0.0}, {"reference", 0.0}, {"reward", 0.0}, {"train", 0.0}};

  if (!config_.output_dir.empty()) {
    // Before any long work: room for two checkpoints (the new one is staged beside the old), each the fp32
    // policy and Adam's two moments, plus 64 MiB for metrics and samples.
    std::uintmax_t parameter_bytes = 0;
    for (const auto& p : parts_.policy->parameters()) parameter_bytes += static_cast<std::uintmax_t>(p.numel()) * 4;
    check_writable_directory(config_.output_dir, "output_dir", 2 * 3 * parameter_bytes + (64u << 20));
    config::save_resolved_config(config_, fs::path(config_.output_dir) / "config.json");
  }
}

PpoTrainer::~PpoTrainer() = default;

void PpoTrainer::run(std::int64_t max_batches) {
  const std::int64_t end = max_batches >= 0 ? std::min(num_batches(), next_batch_ + max_batches) : num_batches();
  while (next_batch_ < end) {
    train_batch();
    const bool last = next_batch_ == end;
    const bool due = config_.save_interval > 0 && next_batch_ % config_.save_interval == 0;
    if (!config_.output_dir.empty() && (last || due)) save_checkpoint();
  }
}

nlohmann::ordered_json PpoTrainer::train_batch() {
  const std::int64_t k = next_batch_;
  if (k >= num_batches())
    throw Error("the run is complete: all " + std::to_string(num_batches()) + " PPO batches done");
  const auto batch_start = Clock::now();
  const at::Device device = runtime_.device;
  const std::int64_t B = config_.ppo.batch_size;
  const std::int64_t N = config_.task.response_length;
  compat::manual_seed(batch_seed(runtime_.seed, k));
  core::reset_peak_memory(device);

  // 1-2. Rollouts.
  const QueryBatch queries = parts_.queries(k, B, device);
  const auto n_positions = parts_.policy->trunk->config().n_positions;
  if (queries.context.size(1) + N > n_positions) {
    throw Error("task: a context of " + std::to_string(queries.context.size(1)) + " tokens plus response_length " +
                std::to_string(N) + " exceeds the model's " + std::to_string(n_positions) + " positions");
  }
  RolloutTimes rollout_times;
  const GuardOptions& guards = config_.guards;
  Rollout rollout;
  try {
    core::SyncDebugGuard no_sync(forbid_sync_);  // forbid_host_sync: none inside the rollout's stages
    rollout =
        generate_rollout(*parts_.policy, *parts_.reference, *parts_.reward, queries, rollout_options_, &rollout_times);
  } catch (const c10::Error& e) {
    // Sampling from non-finite logits fails inside LibTorch (multinomial); say what it means.
    throw Error("batch " + std::to_string(k) + ": the rollout failed (" + first_line(e.what()) +
                "); NaN or Inf in the policy's logits is the usual cause");
  }
  hooks().rollout(k, rollout);
  const std::string bad_part = nonfinite_rollout_part(rollout, parts_.reward->name());
  if (!bad_part.empty()) {
    const std::string what = "batch " + std::to_string(k) + ": " + bad_part + " holds NaN or Inf";
    if (guards.on_nonfinite != "skip") {
      throw Error(what + "; stopped before anything was saved (a learning rate too high, or a reward function "
                         "returning NaN, are the usual causes; guards.on_nonfinite = skip skips such batches)");
    }
    return skip_batch(what);
  }

  // 3. Rewards: -beta * KL on every token, the score on the last (beta before this batch's update).
  const double beta = kl_.value();
  const at::Tensor kl = per_token_kl(rollout.logprobs, rollout.ref_logprobs);
  at::Tensor rewards = kl_penalized_rewards(rollout.score, kl, beta);
  hooks().rewards(k, rewards);
  if (config_.guards.check_rewards)
    check_rewards(rewards, rollout.score, rollout.logprobs, rollout.ref_logprobs, beta, k);

  // 4. PPO epochs.
  const double lr = config_.ppo.lr * (1.0 - static_cast<double>(k) / static_cast<double>(num_batches()));
  auto train_start = Clock::now();
  TrainStats stats(device);
  optimize(rollout, rewards, lr, stats);
  const double train_seconds = seconds_since(train_start, device);

  // 5. KL controller (after training, with the batch's mean summed KL), metrics, guards. The batch's
  // scalars are gathered on the device and copied to the host at once.
  std::vector<at::Tensor> scalars = {kl.sum(1).mean(),
                                     rollout.score.mean(),
                                     rollout.score.std(/*unbiased=*/false),
                                     rollout.raw_score.mean(),
                                     rollout.score.ne(rollout.raw_score).to(at::kFloat).mean(),
                                     rollout.values.mean()};
  for (auto& t : scalars) t = t.to(at::kDouble);
  scalars.insert(scalars.end(), stats.sums.begin(), stats.sums.end());
  const at::Tensor host_scalars = at::stack(scalars).cpu();
  const auto value = host_scalars.accessor<double, 1>();
  const auto sum = [&](TrainStats::Sum which) { return value[6 + which]; };
  const double mean_kl = value[0];
  kl_.update(mean_kl, static_cast<double>(B));
  const double seconds = seconds_since(batch_start, device);
  const double n_mb = std::max(1, stats.minibatches);
  nlohmann::ordered_json m;
  m["batch"] = k;
  m["episodes"] = (k + 1) * B;
  m["lr"] = lr;
  m["score_mean"] = value[1];
  m["score_std"] = value[2];
  m["raw_score_mean"] = value[3];
  m["penalized_fraction"] = value[4];
  m["kl"] = mean_kl;
  m["kl_coef"] = beta;
  m["kl_coef_next"] = kl_.value();
  m["kl_reward"] = -beta * mean_kl;
  m["entropy"] = sum(TrainStats::Entropy) / n_mb;
  m["policy_loss"] = sum(TrainStats::PolicyLoss) / n_mb;
  m["value_loss"] = sum(TrainStats::ValueLoss) / n_mb;
  m["policy_clipfrac"] = sum(TrainStats::PolicyClipfrac) / n_mb;
  m["value_clipfrac"] = sum(TrainStats::ValueClipfrac) / n_mb;
  m["approxkl"] = sum(TrainStats::Approxkl) / n_mb;
  m["explained_variance"] = sum(TrainStats::ExplainedVariance) / n_mb;
  m["returns_mean"] = sum(TrainStats::ReturnsMean) / n_mb;
  m["values_mean"] = value[5];
  m["skipped_minibatches"] = stats.skipped_minibatches;
  m["skips"] = {{"batches", skips_.batches}, {"minibatches", skips_.minibatches}};
  if (scaler_.enabled()) {
    m["loss_scale"] = scaler_.scale();
    m["overflow_skips"] = stats.overflow_skips;
  }
  m["episodes_per_s"] = static_cast<double>(B) / seconds;
  m["tokens_per_s"] = static_cast<double>(B * N) / seconds;
  const core::PeakMemory memory = core::peak_memory(device);
  m["peak_memory"] = core::peak_memory_json(memory);
  m["time"] = {
      {"sample", rollout_times.sample}, {"policy", rollout_times.policy}, {"reference", rollout_times.reference},
      {"reward", rollout_times.reward}, {"train", train_seconds},         {"total", seconds}};
  for (const char* key : {"sample", "policy", "reference", "reward"}) {
    times_[key] = times_[key].get<double>() + m["time"][key].get<double>();
  }
  times_["train"] = times_["train"].get<double>() + train_seconds;

  spdlog::info(
      "batch {}/{} | score {:.4f} ± {:.4f} | kl {:.3f} | beta {:.4f} | entropy {:.3f} | loss pg {:.4f} vf {:.4f} | "
      "clip pg {:.3f} vf {:.3f} | approxkl {:.2e} | ev {:.3f} | {:.1f} eps/s {:.0f} tok/s | peak {:.0f} MiB",
      k + 1, num_batches(), m["score_mean"].get<double>(), m["score_std"].get<double>(), mean_kl, beta,
      m["entropy"].get<double>(), m["policy_loss"].get<double>(), m["value_loss"].get<double>(),
      m["policy_clipfrac"].get<double>(), m["value_clipfrac"].get<double>(), m["approxkl"].get<double>(),
      m["explained_variance"].get<double>(), m["episodes_per_s"].get<double>(), m["tokens_per_s"].get<double>(),
      static_cast<double>(memory.peak_bytes()) / (1 << 20));
  append_line("metrics.jsonl", m);
  if (config_.sample_interval > 0 && k % config_.sample_interval == 0) write_samples(rollout, k);

  next_batch_ = k + 1;
  trend_.add(m["score_mean"].get<double>(), mean_kl, k);  // throws GuardError on a falling score with rising KL
  return m;
}

nlohmann::ordered_json PpoTrainer::skip_batch(const std::string& what) {
  const std::int64_t k = next_batch_;
  ++skips_.batches;
  check_skip_limit(what);
  spdlog::warn("{}; batch skipped (guards.on_nonfinite = skip; {} skipped so far)", what, skips_.total());
  nlohmann::ordered_json m;
  m["batch"] = k;
  m["episodes"] = (k + 1) * config_.ppo.batch_size;
  m["skipped"] = what;
  m["kl_coef"] = kl_.value();
  m["skips"] = {{"batches", skips_.batches}, {"minibatches", skips_.minibatches}};
  append_line("metrics.jsonl", m);
  next_batch_ = k + 1;
  return m;
}

void PpoTrainer::check_skip_limit(const std::string& what) const {
  const int limit = config_.guards.max_skips;
  if (limit > 0 && skips_.total() > limit) {
    throw Error(what + "; stopped: " + std::to_string(skips_.total()) + " batches or minibatches skipped for NaN or "
                "Inf, more than guards.max_skips = " + std::to_string(limit) + " (the run is broken, not unlucky)");
  }
}

// A NaN or Inf in a minibatch's loss or gradient: stops the run, or (skip) drops the minibatch's update.
bool PpoTrainer::minibatch_fault(const std::string& what, TrainStats& stats) {
  if (config_.guards.on_nonfinite != "skip") {
    throw Error(what + "; stopped before anything was saved (guards.on_nonfinite = skip drops such updates)");
  }
  optimizer_->zero_grad();
  ++stats.skipped_minibatches;
  ++skips_.minibatches;
  check_skip_limit(what);
  spdlog::warn("{}; this minibatch's update is dropped (guards.on_nonfinite = skip)", what);
  return false;
}

void PpoTrainer::optimize(const Rollout& r, const at::Tensor& rewards, double lr, TrainStats& stats) {
  const PpoOptions& o = config_.ppo;
  const std::int64_t B = o.batch_size, M = o.minibatch_size();
  const std::int64_t m = o.microbatch_size > 0 ? o.microbatch_size : M;
  const double micro_weight = static_cast<double>(m) / static_cast<double>(M);
  const double T = config_.task.temperature;
  const std::int64_t batch = next_batch_;
  const at::Device device = runtime_.device;
  // No host synchronisation per minibatch: the NaN/Inf checks and statistics stay on the device and are
  // read once, after the loop (a fault then stops the run as before, naming the first bad minibatch).
  // Only decisions that must be taken before the minibatch's step read their flag at once: dropping the
  // update (guards.on_nonfinite = skip) and fp16's skip of an overflowed step.
  const bool check_each_minibatch = config_.guards.on_nonfinite == "skip" || scaler_.enabled();
  struct DeferredCheck {
    std::string what;   // the fault's message, or (loss) its place
    at::Tensor finite;  // bool, 0-dim
    at::Tensor losses;  // [loss, policy, value] for a loss check; undefined for a gradient check
  };
  std::vector<DeferredCheck> deferred;
  // Reads the deferred checks in the order the minibatches ran (one copy): the first fault stops the run
  // (only stop mode defers), with the message a check in the loop would give.
  auto check_deferred = [&] {
    if (deferred.empty()) return;
    core::SyncDebugGuard allowed(false);
    std::vector<at::Tensor> flags;
    for (const auto& d : deferred) flags.push_back(d.finite);
    const at::Tensor finite = at::stack(flags).cpu();
    const auto ok = finite.accessor<bool, 1>();
    for (std::size_t i = 0; i < deferred.size(); ++i) {
      if (ok[static_cast<std::int64_t>(i)]) continue;
      const DeferredCheck& d = deferred[i];
      if (!d.losses.defined()) {
        minibatch_fault(d.what, stats);
        continue;
      }
      const at::Tensor l = d.losses.to(at::kCPU, at::kDouble);
      minibatch_fault(loss_fault_message(d.what, l[0].item<double>(), l[1].item<double>(), l[2].item<double>()),
                      stats);
    }
    deferred.clear();
  };
  std::optional<core::SyncDebugGuard> no_sync(std::in_place, forbid_sync_);  // forbid_host_sync

  for (int epoch = 0; epoch < o.noptepochs; ++epoch) {
    // Drawn on the CPU (the run's random stream); the copy queues without waiting.
    const at::Tensor permutation =
        at::randperm(B, at::TensorOptions().dtype(at::kLong)).to(at::TensorOptions().device(device), /*non_blocking=*/true);
    for (int mb = 0; mb < o.nminibatches; ++mb) {
      const at::Tensor rows = permutation.narrow(0, mb * M, M);
      // Advantages and returns over the whole minibatch, before it is split into microbatches.
      at::Tensor mb_rewards = rewards.index_select(0, rows);
      if (o.whiten_rewards) mb_rewards = whiten(mb_rewards, /*shift_mean=*/false);
      const at::Tensor old_values = r.values.index_select(0, rows);
      const Gae gae = compute_gae(mb_rewards, old_values, o.gamma, o.lam);
      const MinibatchPoint point{batch, epoch, mb};
      hooks().advantages(point, rows, gae);

      optimizer_->zero_grad();
      std::vector<at::Tensor> vpreds;
      TrainStats mb_stats(device);  // merged into `stats` only when the minibatch's update is kept
      const std::string where = "batch " + std::to_string(batch) + ", epoch " + std::to_string(epoch) +
                                ", minibatch " + std::to_string(mb);
      bool bad = false;
      for (std::int64_t s = 0; s < M && !bad; s += m) {
        const at::Tensor idx = rows.narrow(0, s, m);
        ResponseAnalysis a;
        {
          compat::AutocastGuard autocast(precision_.device, precision_.dtype());  // the forward only
          a = parts_.policy->analyze(r.queries.context.index_select(0, idx), r.queries.context_mask.index_select(0, idx),
                                     r.response.index_select(0, idx), T, /*with_entropy=*/true);
        }
        PolicyLoss pl =
            policy_loss(a.logprobs, r.logprobs.index_select(0, idx), gae.advantages.narrow(0, s, m), o.cliprange);
        ValueLoss vl =
            value_loss(a.values, old_values.narrow(0, s, m), gae.returns.narrow(0, s, m), o.cliprange_value);
        hooks().losses(point, s, m, pl, vl);
        const at::Tensor entropy = a.entropy.mean();
        at::Tensor loss = pl.loss + o.vf_coef * vl.loss;
        if (o.ent_coef > 0) loss = loss - o.ent_coef * entropy;
        if (!check_each_minibatch) {
          deferred.push_back({where, loss.isfinite().all(),
                              at::stack({loss.detach(), pl.loss.detach(), vl.loss.detach()})});
        } else if (!all_finite(loss)) {
          bad = !minibatch_fault(
              loss_fault_message(where, loss.item<double>(), pl.loss.item<double>(), vl.loss.item<double>()), stats);
          break;
        }
        scaler_.scale_loss(loss * micro_weight).backward();
        mb_stats.add(TrainStats::PolicyLoss, pl.loss, micro_weight);
        mb_stats.add(TrainStats::ValueLoss, vl.loss, micro_weight);
        mb_stats.add(TrainStats::PolicyClipfrac, pl.clipfrac, micro_weight);
        mb_stats.add(TrainStats::ValueClipfrac, vl.clipfrac, micro_weight);
        mb_stats.add(TrainStats::Approxkl, pl.approxkl, micro_weight);
        mb_stats.add(TrainStats::Entropy, entropy, micro_weight);
        vpreds.push_back(a.values.detach());
      }
      if (bad) continue;
      scaler_.unscale(optimizer_->params());  // fp16: true gradients before the checks and clipping
      hooks().gradient(point, optimizer_->params());

      std::vector<at::Tensor> grads;
      at::Tensor norm_sq = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));  // summed in order
      for (const auto& [name, p] : optimizer_->params()) {
        grads.push_back(p.grad());
        if (p.grad().defined()) norm_sq = norm_sq + p.grad().to(at::kDouble).pow(2).sum();
      }
      if (!check_each_minibatch) {
        deferred.push_back({where + ": the gradient holds NaN or Inf", norm_sq.isfinite(), at::Tensor()});
      } else {
        const bool finite = std::isfinite(norm_sq.item<double>());
        if (scaler_.is_overflow(finite)) {
          // fp16: the scale was too large for this minibatch; not a fault, and not counted as one.
          grads.clear();
          optimizer_->zero_grad();
          scaler_.update(false);
          ++stats.overflow_skips;
          spdlog::info("{}: fp16 gradients overflowed; update skipped, loss scale now {}", where, scaler_.scale());
          continue;
        }
        if (!finite) {
          grads.clear();
          minibatch_fault(where + ": the gradient holds NaN or Inf", stats);
          continue;
        }
      }
      scaler_.update(true);
      stats.add(mb_stats);
      stats.add(TrainStats::ExplainedVariance, explained_variance_tensor(at::cat(vpreds, 0), gae.returns));
      stats.add(TrainStats::ReturnsMean, gae.returns.mean());
      ++stats.minibatches;
      if (config_.guards.preflight && !preflight_done_) {
        check_deferred();  // a NaN is reported as such, not as a failed preflight
        core::SyncDebugGuard allowed(false);  // the one-time guard reads its numbers on the host
        preflight_done_ = preflight(rows, gae.advantages, mb_rewards, grads, r);
      }
      grads.clear();  // autograd may have replaced gradient tensors that were shared
      if (o.max_grad_norm > 0) {
        // Decided on the device: scale exactly 1 (the unclipped update) while the norm is within the bound.
        const at::Tensor norm = norm_sq.sqrt();
        const at::Tensor scale = at::where(norm.gt(o.max_grad_norm), o.max_grad_norm / (norm + 1e-6), at::ones_like(norm));
        at::NoGradGuard no_grad;
        for (const auto& [name, p] : optimizer_->params()) {
          if (p.grad().defined()) p.grad().mul_(scale);
        }
      }
      optimizer_->step(lr);
    }
  }
  no_sync.reset();
  check_deferred();
}

bool PpoTrainer::preflight(const at::Tensor& rows, const at::Tensor& advantages, const at::Tensor& rewards,
                           const std::vector<at::Tensor>& loss_grads, const Rollout& r) {
  // Every episode alike (e.g. all scored 0 at the start): no direction to check yet; try the next minibatch.
  if (rewards.std(/*unbiased=*/false).item<double>() < 1e-6) {
    spdlog::debug("preflight: every reward in the minibatch is the same; postponed to the next minibatch");
    return false;
  }
  const PpoOptions& o = config_.ppo;
  const std::int64_t M = rows.size(0);
  const std::int64_t m = o.microbatch_size > 0 ? o.microbatch_size : M;
  const auto& params = optimizer_->params();
  // The update direction the optimizer is about to follow (before Adam's per-coordinate scaling,
  // which keeps every coordinate's sign): minus the accumulated gradient of the full loss.
  std::vector<at::Tensor> direction;
  for (const auto& g : loss_grads) direction.push_back(g.defined() ? -g.detach().clone() : at::Tensor());

  // (a) Advantages must grow with the episode's total reward.
  const at::Tensor total_reward = rewards.sum(1).to(at::kDouble), total_adv = advantages.sum(1).to(at::kDouble);
  double corr = 0.0;
  if (total_reward.std().item<double>() > 0 && total_adv.std().item<double>() > 0) {
    corr = at::corrcoef(at::stack({total_reward, total_adv}))[0][1].item<double>();
  }

  // (b) The gradient of J = mean(A * logp) (the REINFORCE surrogate, computed here and not by
  // policy_loss) and (c) of E = mean((V - R)^2), microbatch by microbatch.
  const Gae returns_source = compute_gae(rewards, r.values.index_select(0, rows), o.gamma, o.lam);
  auto gradient_of = [&](bool objective_j) {
    optimizer_->zero_grad();
    for (std::int64_t s = 0; s < M; s += m) {
      const at::Tensor idx = rows.narrow(0, s, m);
      const ResponseAnalysis a =
          parts_.policy->analyze(r.queries.context.index_select(0, idx), r.queries.context_mask.index_select(0, idx),
                                 r.response.index_select(0, idx), config_.task.temperature);
      const at::Tensor value = objective_j ? (advantages.narrow(0, s, m) * a.logprobs).mean()
                                           : (a.values - returns_source.returns.narrow(0, s, m)).pow(2).mean();
      (value * (static_cast<double>(m) / M)).backward();
    }
    std::vector<at::Tensor> out;
    for (const auto& [name, p] : params) out.push_back(p.grad().defined() ? p.grad().detach().clone() : at::Tensor());
    return out;
  };
  const std::vector<at::Tensor> grad_j = gradient_of(true);
  const double cos_j = gradient_cosine(direction, grad_j);
  double value_dot = 0.0;
  if (o.vf_coef > 0) {
    const std::vector<at::Tensor> grad_e = gradient_of(false);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i].first.rfind("v_head.", 0) == 0 && direction[i].defined() && grad_e[i].defined()) {
        value_dot += (direction[i].to(at::kDouble) * grad_e[i].to(at::kDouble)).sum().item<double>();
      }
    }
  }
  // Put the loss gradient back for the real step.
  optimizer_->zero_grad();
  {
    at::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (loss_grads[i].defined()) params[i].second.mutable_grad().copy_(-direction[i]);
    }
  }
  spdlog::info(
      "preflight: corr(advantage, reward) {:.3f}, cos(update, grad sum(A logp)) {:.3f}, "
      "update . grad value error {:.3e}",
      corr, cos_j, value_dot);
  std::string problem;
  if (corr < 0) problem = "the advantages fall as the rewards rise (correlation " + std::to_string(corr) + ")";
  if (!(cos_j > 0)) {
    problem =
        "the update lowers the log-probabilities of high-advantage tokens (cosine between the step and the "
        "gradient of sum(A * logp) is " +
        std::to_string(cos_j) + ")";
  }
  if (value_dot > 0) problem = "the update moves the values away from the returns";
  if (!problem.empty()) {
    throw GuardError("guard: preflight before the first update: " + problem +
                     "; a sign error in the PPO loss or advantages, stopped before training");
  }
  return true;
}

void PpoTrainer::append_line(const std::string& file, const nlohmann::ordered_json& record) {
  if (config_.output_dir.empty()) return;
  const fs::path path = fs::path(config_.output_dir) / file;
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (!out) throw Error(path.string() + ": cannot append a line");
}

void PpoTrainer::write_samples(const Rollout& r, std::int64_t batch) {
  const auto n = std::min<std::int64_t>(config_.num_samples, r.response.size(0));
  const int pad = config_.task.queries.pad_id;
  const at::Tensor query = r.queries.query.cpu(), processed = r.processed.cpu(), score = r.score.cpu();
  for (std::int64_t b = 0; b < n; ++b) {
    auto real_tokens = [pad](const at::Tensor& row) {
      std::vector<int> out;
      const auto* p = row.data_ptr<std::int64_t>();
      for (std::int64_t i = 0; i < row.numel(); ++i) {
        if (p[i] != pad) out.push_back(static_cast<int>(p[i]));
      }
      return out;
    };
    const std::vector<int> q = real_tokens(query[b].contiguous()), resp = real_tokens(processed[b].contiguous());
    nlohmann::ordered_json record = {{"batch", batch}, {"score", score[b].item<double>()}};
    if (parts_.tokenizer) {
      record["query"] = parts_.tokenizer->decode(q);
      record["response"] = parts_.tokenizer->decode(resp);
    } else {
      record["query_tokens"] = q;
      record["response_tokens"] = resp;
    }
    append_line("samples.jsonl", record);
  }
}

}  // namespace rlhf::ppo
