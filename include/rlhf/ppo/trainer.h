// PPO fine-tuning of a GPT-2 policy against a reward function (paper-spec 2.3, 4, 5). One PPO batch:
//   1. reseed every generator from (seed, batch index), take the batch's queries;
//   2. rollout: sample, policy log-probs and values, reference log-probs, truncate, score, penalty;
//   3. rewards = -beta * KL per token + score on the last token (checked independently);
//   4. noptepochs epochs of nminibatches Adam steps (gradient accumulated over microbatches), with
//      rewards whitened, GAE, advantages whitened per minibatch, at lr * (1 - batch / batches);
//   5. the KL controller's update, metrics (metrics.jsonl + a console line), samples, checkpoints.
// A run stopped at any point continues with resume() and ends with the same weights, bit for bit on
// the CPU with the same thread count, as a run that went straight through.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "rlhf/core/runtime.h"
#include "rlhf/optim/loss_scaler.h"
#include "rlhf/ppo/config.h"
#include "rlhf/ppo/guards.h"
#include "rlhf/ppo/hooks.h"
#include "rlhf/ppo/kl_controller.h"
#include "rlhf/ppo/policy.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/ppo/rollout.h"

namespace rlhf::tokenizer {
class Tokenizer;
}
namespace rlhf::optim {
class Adam;
}

namespace rlhf::ppo {

// The queries of PPO batch `batch_index` (batch_size rows) on `device`; a pure function of its
// arguments, so a resumed run sees the same queries.
using QuerySource =
    std::function<QueryBatch(std::int64_t batch_index, std::int64_t batch_size, const at::Device& device)>;
QuerySource dataset_queries(std::shared_ptr<const data::QueryDataset> dataset);

// The networks and data a run needs. `load_parts` builds them from the configuration.
struct PpoParts {
  Policy policy{nullptr};          // fp32, trained
  model::Gpt2 reference{nullptr};  // frozen, any precision
  std::unique_ptr<RewardFunction> reward;
  QuerySource queries;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;  // for sample texts; null = write token ids
  std::shared_ptr<PpoHooks> hooks;                        // tests only (ppo/hooks.h); null = none
};
PpoParts load_parts(const TrainPolicyConfig& config, const core::Runtime& runtime);

// The generators' seed for PPO batch `batch` of a run seeded with `seed`.
std::uint64_t batch_seed(std::uint64_t seed, std::int64_t batch);

class PpoTrainer {
 public:
  // Places the parts on the runtime's device (policy fp32, reference in runtime.precision) and checks
  // the configuration against the models. Writes config.json into output_dir when it is set.
  PpoTrainer(TrainPolicyConfig config, const core::Runtime& runtime, PpoParts parts);
  ~PpoTrainer();

  // Continues the run saved in output_dir/checkpoint: weights, optimizer, KL controller, guard
  // history, generator states, the next batch index; metrics and samples of later batches are cut.
  void resume();

  // Runs PPO batches until the configured total, or `max_batches` more when >= 0. Checkpoints every
  // save_interval batches and at the end (only when output_dir is set).
  void run(std::int64_t max_batches = -1);

  // One PPO batch; returns its metrics (also written to metrics.jsonl and the console).
  nlohmann::ordered_json train_batch();

  // Writes output_dir/checkpoint atomically.
  void save_checkpoint();

  std::int64_t next_batch() const { return next_batch_; }
  std::int64_t num_batches() const { return config_.ppo.num_batches(); }
  double kl_coef() const { return kl_.value(); }
  Policy& policy() { return parts_.policy; }
  const TrainPolicyConfig& config() const { return config_; }
  // Seconds per phase summed over the batches run by this object: sample, policy, reference, reward, train.
  const nlohmann::ordered_json& times() const { return times_; }
  // On: the rollout stages and the minibatch loop run under core::SyncDebugGuard, so on CUDA any host
  // synchronisation inside them throws (the once-per-batch copies, timings and the first batch's
  // preflight stay allowed). Needs guards.on_nonfinite = stop and no fp16 loss scaling, which decide
  // per minibatch on the host. For the GPU check (docs/gpu.md); a no-op on the CPU.
  void forbid_host_sync(bool on) { forbid_sync_ = on; }

 private:
  struct TrainStats;
  void optimize(const Rollout& rollout, const at::Tensor& rewards, double lr, TrainStats& stats);
  // on_nonfinite = skip: a batch whose rollout holds NaN or Inf is recorded as skipped and not trained on.
  nlohmann::ordered_json skip_batch(const std::string& what);
  // Throws (stop), or drops the minibatch's gradient and counts it (skip); returns false.
  bool minibatch_fault(const std::string& what, TrainStats& stats);
  void check_skip_limit(const std::string& what) const;
  // Returns false when the minibatch cannot tell (all rewards alike); throws GuardError on a failure.
  bool preflight(const at::Tensor& rows, const at::Tensor& advantages, const at::Tensor& rewards,
                 const std::vector<at::Tensor>& loss_grads, const Rollout& rollout);
  void write_samples(const Rollout& rollout, std::int64_t batch);
  void append_line(const std::string& file, const nlohmann::ordered_json& record);
  PpoHooks& hooks() { return parts_.hooks ? *parts_.hooks : no_hooks_; }

  TrainPolicyConfig config_;
  core::Runtime runtime_;
  PpoParts parts_;
  RolloutOptions rollout_options_;
  std::unique_ptr<optim::Adam> optimizer_;
  core::TrainPrecision precision_;  // runtime.train_precision: autocast of the PPO forwards
  optim::LossScaler scaler_;        // fp16 only (disabled otherwise)
  KlController kl_;
  TrendMonitor trend_;
  std::int64_t next_batch_ = 0;
  bool preflight_done_ = false;
  bool forbid_sync_ = false;  // forbid_host_sync
  struct Skips {
    int batches = 0, minibatches = 0;
    int total() const { return batches + minibatches; }
  } skips_;
  nlohmann::ordered_json times_;
  PpoHooks no_hooks_;
};

}  // namespace rlhf::ppo
