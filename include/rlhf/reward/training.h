// Training the reward model on best-of-N comparisons (paper-spec sections 2.2 and 3): one epoch by
// default, N-way softmax cross-entropy, Adam (TensorFlow epsilon by default), learning rate decaying
// linearly to 0; and the normalisation before and after training on samples of the reference policy.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "rlhf/config/config.h"
#include "rlhf/core/precision.h"
#include "rlhf/data/labels.h"
#include "rlhf/reward/reward_model.h"

namespace rlhf::reward {

struct RewardTrainingOptions {
  int batch_size = 32;                    // comparisons per Adam step (the paper: 32 books, 16 summaries)
  double lr = 5e-5;                       // peak learning rate, decays linearly to 0 over the run
  int epochs = 1;                         // the paper: exactly one
  int microbatch_size = 0;                // comparisons per forward pass (gradients accumulated); 0 = batch_size
  double validation_fraction = 0.1;       // held out from the label file (0 = none)
  int eval_interval = 0;                  // steps between validation passes; 0 = only at the end
  int log_interval = 10;                  // steps between console lines
  std::string adam_style = "tensorflow";  // tensorflow (the paper's epsilon) | pytorch
  double adam_eps = 1e-5;

  template <class V>
  void visit(V& v) {
    v.field("batch_size", batch_size, "Comparisons per optimizer step", config::Range::at_least(1));
    v.field("lr", lr, "Peak learning rate; decays linearly to 0 over the run", config::Range::greater_than(0.0));
    v.field("epochs", epochs, "Passes over the training labels (the paper: 1)", config::Range::at_least(1));
    v.field("microbatch_size", microbatch_size,
            "Comparisons per forward pass, gradients accumulated over the batch (same result, less memory); "
            "0 = the whole batch",
            config::Range::at_least(0));
    v.field("validation_fraction", validation_fraction, "Fraction of the labels held out for validation",
            config::Range::between(0.0, 0.9));
    v.field("eval_interval", eval_interval, "Steps between validation passes; 0 = only at the end",
            config::Range::at_least(0));
    v.field("log_interval", log_interval, "Steps between console progress lines", config::Range::at_least(1));
    v.field("adam_style", adam_style, "Adam epsilon formulation: tensorflow (the paper's code) or pytorch",
            config::OneOf{{"tensorflow", "pytorch"}});
    v.field("adam_eps", adam_eps, "Adam epsilon", config::Range::greater_than(0.0));
  }
};

// Sampling for normalisation runs at the reference policy's precision (--precision); the reward model
// scores those samples in the precision it trains in (fp32 weights, runtime.train_precision's autocast).
struct NormalizationOptions {
  bool before = true;           // normalise the fresh model before training (the paper)
  bool after = true;            // and again after training, so the KL coefficient keeps its meaning
  int samples = 256;            // reference-policy samples per normalisation (exactly; OpenAI's code
                                // rounds up to whole rollout batches: 512 for books)
  int rollout_batch_size = 64;  // samples drawn at once
  double temperature = 0.7;     // the task's sampling temperature (0.7 books, 0.5 cnndm)
  int response_length = 24;     // tokens per sample, no stop at end-of-text

  template <class V>
  void visit(V& v) {
    v.field("before", before, "Normalise rewards to mean 0, std 1 before training");
    v.field("after", after, "Normalise rewards to mean 0, std 1 after training");
    v.field("samples", samples,
            "Reference-policy samples used to estimate mean and std (exactly this many; OpenAI's code draws "
            "whole rollout batches, 512 for books)",
            config::Range::at_least(2));
    v.field("rollout_batch_size", rollout_batch_size, "Samples drawn per batch", config::Range::at_least(1));
    v.field("temperature", temperature, "Sampling temperature of the reference policy",
            config::Range::greater_than(0.0));
    v.field("response_length", response_length, "Tokens per sampled response", config::Range::at_least(1));
  }
};

// Rows query ++ sample_n for every comparison and candidate, right-padded with pad_id into
// ids [B*N, T] and mask [B*N, T] (pads and ids outside [0, vocab) are masked). Row b*N + n is
// candidate n of comparison b.
std::pair<at::Tensor, at::Tensor> comparison_batch(const std::vector<const data::Comparison*>& items, int pad_id,
                                                   int vocab_size);

// Rewards [B, N] of the comparisons' candidates, on the model's device. `items` must not be empty.
at::Tensor candidate_rewards(RewardModelImpl& model, const std::vector<const data::Comparison*>& items, int pad_id);

// The most real (non-pad, in-vocabulary) tokens of any query ++ sample: what must fit the context.
std::size_t longest_comparison(const std::vector<data::Comparison>& items, int pad_id, int vocab_size);

struct Evaluation {
  double loss = 0;      // mean softmax cross-entropy
  double accuracy = 0;  // fraction where the chosen candidate gets the highest reward
  std::size_t count = 0;
};
Evaluation evaluate(RewardModelImpl& model, const std::vector<data::Comparison>& items, int pad_id, int batch_size);

// Trains in place (fp32 weights whatever --precision says: the trunk, head, gain and bias all train). The
// order is a fresh random permutation per epoch from the default generator; the learning rate is
// lr * (1 - comparisons_done / comparisons_total). `on_record` receives one JSON object per step
// ({"step", "epoch", "lr", "loss", "accuracy", "comparisons_per_s"}) and per validation ({"eval": true,
// "step", "validation_loss", "validation_accuracy"}). Returns a summary: steps, comparisons, seconds,
// comparisons_per_s, train_loss and train_accuracy (means over the last epoch's steps), and with a
// validation set validation_loss, validation_accuracy, validation_count.
// `precision` (runtime.train_precision): autocast of the forwards, training and validation alike, with
// fp32 master weights and Adam state; fp16 adds dynamic loss scaling (skipped steps are counted in the
// summary as overflow_skips and logged).
nlohmann::json train_reward_model(RewardModelImpl& model, const std::vector<data::Comparison>& train,
                                  const std::vector<data::Comparison>& validation, const RewardTrainingOptions& options,
                                  int pad_id, const std::function<void(const nlohmann::json&)>& on_record = {},
                                  const core::TrainPrecision& precision = {});

struct NormalizationStats {
  double raw_mean = 0;  // of the rewards before rescaling
  double raw_std = 0;   // population std
  std::size_t count = 0;
};

// Samples `samples` responses from `reference` for the given contexts (cycled in order), scores
// (raw query, response) with the reward model, and sets gain and bias so those rewards have mean 0 and
// population std 1. contexts[i] is the policy input for raw_queries[i]; both may contain pad_id.
// The reward model scores under `precision`'s autocast, as it trains.
NormalizationStats normalize_reward_model(RewardModelImpl& model, model::Gpt2Impl& reference,
                                          const std::vector<std::vector<int>>& contexts,
                                          const std::vector<std::vector<int>>& raw_queries,
                                          const NormalizationOptions& options, int pad_id,
                                          const core::TrainPrecision& precision = {});

// Reward-model training throughput: comparisons per second of full training steps (forward, backward
// and Adam update of batch_size * num_samples sequences of query_length + sample_length random tokens),
// after one untimed warm-up step. Trains `model` in place (use a throwaway copy).
double benchmark_training(RewardModelImpl& model, int batch_size, int num_samples, int query_length, int sample_length,
                          int steps, const core::TrainPrecision& precision = {});

}  // namespace rlhf::reward
