// Supervised fine-tuning: next-token cross-entropy on SftExamples with Adam(W), a warm-up + decay
// schedule, validation loss and perplexity, checkpoints that a new run with the same output resumes
// from, and the final model in Hugging Face's layout.
//
// OUTPUT/
//   model/            the final model: config.json, model.safetensors, vocab.json, merges.txt, sft.json
//   checkpoint/       model/ (same layout), optimizer.safetensors, rng.safetensors, state.json
//   metrics.jsonl     one record per step, and one per validation pass ("eval": true)
//   sft.config.json   the resolved configuration
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "rlhf/core/precision.h"
#include "rlhf/core/runtime.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/optim/adam.h"
#include "rlhf/optim/loss_scaler.h"
#include "rlhf/sft/config.h"
#include "rlhf/sft/data.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::sft {

// The summed cross-entropy (a scalar with a graph) of the batch's counted targets; the batch is on the
// CPU and is moved to the model's device. Logits are computed only where a target counts. Divide by
// the target count of the whole optimizer batch for the mean.
at::Tensor summed_loss(model::Gpt2Impl& model, const SftBatch& batch);

struct Evaluation {
  double loss = 0;        // mean cross-entropy per target token (nats)
  double perplexity = 0;  // exp(loss)
  std::int64_t tokens = 0;
};
// Mean loss over `examples` in order, batch_size rows at a time (max_batches > 0: only that many
// batches), in eval mode (no dropout) and without gradients; restores the module's training flag.
Evaluation evaluate(model::Gpt2Impl& model, const std::vector<SftExample>& examples, int batch_size,
                    int max_batches = 0);

// What a run trains: the model, its tokenizer and the tokenized data.
struct SftParts {
  model::Gpt2 model{nullptr};
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  SftData data;
  int sequence_length = 0;
  bool from_checkpoint = false;  // the model and tokenizer came from OUTPUT/checkpoint
};

// Checks the inputs in the order that fails fastest (output writable, data files present, sequence
// length within the model's context) and then loads: the model and tokenizer from OUTPUT/checkpoint
// when there is one, else from `model` or `init_config` (+ tokenizer, tokenizer_merges); then the data.
// Throws rlhf::Error naming the key or file.
SftParts prepare_sft(const SftConfig& config);

class SftTrainer {
 public:
  // Places the model on the runtime's device in training mode with the configured dropout.
  SftTrainer(SftConfig config, SftParts parts, const core::Runtime& runtime);

  std::int64_t total_steps() const { return total_steps_; }
  std::int64_t step() const { return step_; }  // optimizer steps done
  model::Gpt2Impl& model() { return *parts_.model; }

  // Restores step, optimizer and generator states from OUTPUT/checkpoint (whose weights prepare_sft
  // loaded), and drops metrics records of later steps. Returns false when there is no checkpoint.
  bool resume();

  // Trains until `step() == until` (clamped to total_steps), with validation passes, logs and
  // checkpoints at their intervals.
  void train_steps(std::int64_t until);
  // Final validation, a checkpoint (when save_interval > 0) and OUTPUT/model. Returns the summary.
  nlohmann::json finish();
  // train_steps(total_steps()) and finish().
  nlohmann::json train();

  void save_checkpoint();

 private:
  struct StepStats {
    double loss = 0, grad_norm = 0;
    std::int64_t tokens = 0;
    bool skipped = false;  // fp16: the loss scaler skipped the update (gradients overflowed)
  };
  StepStats train_step(const std::vector<std::size_t>& indices, double lr);
  Evaluation validate();
  void append_metrics(const nlohmann::json& record);

  SftConfig config_;
  SftParts parts_;
  core::Runtime runtime_;
  std::unique_ptr<optim::Adam> adam_;
  optim::LossScaler scaler_;  // runtime.train_precision = fp16 only
  std::int64_t total_steps_ = 0, warmup_steps_ = 0, step_ = 0;
  std::int64_t tokens_seen_ = 0;
  double lr_ = 0;
  double last_train_loss_ = 0;
};

// The whole command: prepare, resume if OUTPUT/checkpoint exists, train, finish. Returns the summary.
nlohmann::json run_sft(const SftConfig& config, const core::Runtime& runtime);

// Training throughput: tokens per second of full optimizer steps (forward, backward, Adam) on batches
// of random token blocks of `sequence_length`, after one untimed warm-up step. Trains `model` in place.
// `precision`: the autocast of the forwards (runtime.train_precision); fp16 also scales the loss.
double benchmark_sft(model::Gpt2Impl& model, int batch_size, int sequence_length, int steps,
                     const core::TrainPrecision& precision = {});

}  // namespace rlhf::sft
