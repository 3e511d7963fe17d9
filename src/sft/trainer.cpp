#include "rlhf/sft/trainer.h"

#include <ATen/core/Reduction.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "rlhf/core/precision.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/sft/schedule.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<const SftExample*> pointers(const std::vector<SftExample>& examples, const std::vector<std::size_t>& indices) {
  std::vector<const SftExample*> out;
  out.reserve(indices.size());
  for (const std::size_t i : indices) out.push_back(&examples[i]);
  return out;
}

std::int64_t targets_of(const std::vector<const SftExample*>& examples) {
  std::int64_t n = 0;
  for (const auto* e : examples) n += static_cast<std::int64_t>(e->tokens.size()) - e->first_target;
  return n;
}

// Scales all gradients so their global L2 norm is at most max_norm (0 = no clipping). Returns the norm
// before clipping.
double clip_gradients(const std::vector<std::pair<std::string, at::Tensor>>& params, double max_norm) {
  std::vector<at::Tensor> norms;
  for (const auto& [name, p] : params) {
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  }
  if (norms.empty()) return 0.0;
  const double total = at::stack(norms).norm().item<double>();
  if (max_norm > 0 && total > max_norm) {
    const double scale = max_norm / (total + 1e-6);
    for (const auto& [name, p] : params) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return total;
}

// Decoupled weight decay (AdamW: p -= lr * wd * p before the Adam update) on matrices and embeddings.
void decay_weights(const std::vector<std::pair<std::string, at::Tensor>>& params, double lr, double weight_decay) {
  if (weight_decay <= 0) return;
  at::NoGradGuard no_grad;
  for (const auto& [name, p] : params) {
    if (p.dim() >= 2 && p.grad().defined()) p.mul_(1.0 - lr * weight_decay);
  }
}

}  // namespace

at::Tensor summed_loss(model::Gpt2Impl& model, const SftBatch& batch) {
  const at::Device device = model.device();
  const at::Tensor hidden = model.forward(batch.ids.to(device), batch.mask.to(device), batch.positions.to(device));
  const auto C = hidden.size(-1);
  at::Tensor flat = hidden.reshape({-1, C});        // [B*T, C]
  at::Tensor targets = batch.targets.reshape({-1});  // [B*T]
  if (batch.target_count < targets.numel()) {
    // Only the counted positions need logits (pairs: the response, a small part of long queries).
    const at::Tensor keep = targets.ne(-100).nonzero().squeeze(1);
    targets = targets.index_select(0, keep);
    flat = flat.index_select(0, keep.to(device));
  }
  const at::Tensor logits = model.logits(flat).to(at::kFloat);  // [N, V]; fp32 under autocast too
  return at::cross_entropy_loss(logits, targets.to(device), {}, at::Reduction::Sum);
}

Evaluation evaluate(model::Gpt2Impl& model, const std::vector<SftExample>& examples, int batch_size, int max_batches) {
  Evaluation result;
  if (examples.empty()) return result;
  const bool was_training = model.is_training();
  model.eval();
  at::NoGradGuard no_grad;
  double loss_sum = 0;
  int batches = 0;
  for (std::size_t start = 0; start < examples.size(); start += static_cast<std::size_t>(batch_size)) {
    if (max_batches > 0 && batches++ >= max_batches) break;
    std::vector<const SftExample*> part;
    for (std::size_t i = start; i < std::min(examples.size(), start + batch_size); ++i) part.push_back(&examples[i]);
    const SftBatch batch = make_batch(part);
    loss_sum += summed_loss(model, batch).item<double>();
    result.tokens += batch.target_count;
  }
  if (was_training) model.train();
  result.loss = result.tokens > 0 ? loss_sum / static_cast<double>(result.tokens) : 0.0;
  result.perplexity = std::exp(result.loss);
  return result;
}

SftTrainer::SftTrainer(SftConfig config, SftParts parts, const core::Runtime& runtime)
    : config_(std::move(config)), parts_(std::move(parts)), runtime_(runtime) {
  const auto& t = config_.training;
  const auto n = static_cast<std::int64_t>(parts_.data.train.size());
  total_steps_ = t.max_steps > 0 ? t.max_steps : t.epochs * ((n + t.batch_size - 1) / t.batch_size);
  warmup_steps_ = effective_warmup_steps(t, total_steps_);
  lr_ = effective_lr(config_);
  auto& model = *parts_.model;
  model.to(runtime_.device, at::kFloat);  // fp32 master weights; runtime.train_precision sets the autocast
  model.set_dropout(effective_dropout(config_));
  model.train();
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (auto& item : model.named_parameters()) params.emplace_back(item.key(), item.value());
  optim::AdamOptions adam;
  adam.beta2 = t.adam_beta2;
  adam.eps = t.adam_eps;
  adam.style = optim::parse_adam_style(t.adam_style);
  adam_ = std::make_unique<optim::Adam>(params, adam);
  optim::LossScalerOptions scaling;
  scaling.enabled = core::train_precision(runtime_).loss_scaling();
  scaler_ = optim::LossScaler(scaling);
}

SftTrainer::StepStats SftTrainer::train_step(const std::vector<std::size_t>& indices, double lr) {
  const auto examples = pointers(parts_.data.train, indices);
  const double targets = static_cast<double>(targets_of(examples));
  const auto micro = static_cast<std::size_t>(
      config_.training.microbatch_size > 0 ? config_.training.microbatch_size : config_.training.batch_size);
  StepStats stats;
  adam_->zero_grad();
  for (std::size_t start = 0; start < examples.size(); start += micro) {
    const std::vector<const SftExample*> part(examples.begin() + start,
                                              examples.begin() + std::min(examples.size(), start + micro));
    const SftBatch batch = make_batch(part);
    at::Tensor loss;
    {
      const core::TrainPrecision p = core::train_precision(runtime_);
      compat::AutocastGuard autocast(p.device, p.dtype());  // the forward only
      loss = summed_loss(*parts_.model, batch);
    }
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      throw Error("sft: the loss became " + std::to_string(value) + " at step " + std::to_string(step_ + 1) +
                  "; try a lower training.lr");
    }
    scaler_.scale_loss(loss / targets).backward();  // the gradient of the batch's mean over target tokens
    stats.loss += value / targets;
    stats.tokens += batch.token_count;
  }
  scaler_.unscale(adam_->params());
  if (scaler_.is_overflow(optim::gradients_finite(adam_->params()))) {
    scaler_.update(false);
    adam_->zero_grad();
    stats.skipped = true;
    spdlog::info("sft step {}: fp16 gradients overflowed; update skipped, loss scale now {}", step_ + 1,
                 scaler_.scale());
    return stats;
  }
  scaler_.update(true);
  stats.grad_norm = clip_gradients(adam_->params(), config_.training.max_grad_norm);
  decay_weights(adam_->params(), lr, config_.training.weight_decay);
  adam_->step(lr);
  return stats;
}

Evaluation SftTrainer::validate() {
  const auto& t = config_.training;
  const core::TrainPrecision p = core::train_precision(runtime_);
  compat::AutocastGuard autocast(p.device, p.dtype());  // measured as it trains
  const Evaluation e = evaluate(*parts_.model, parts_.data.validation,
                                t.microbatch_size > 0 ? t.microbatch_size : t.batch_size, t.eval_batches);
  append_metrics({{"eval", true},
                  {"step", step_},
                  {"validation_loss", e.loss},
                  {"validation_perplexity", e.perplexity},
                  {"validation_tokens", e.tokens}});
  spdlog::info("sft validation at step {}: loss {:.4f}, perplexity {:.2f} ({} tokens)", step_, e.loss, e.perplexity,
               e.tokens);
  return e;
}

void SftTrainer::append_metrics(const nlohmann::json& record) {
  const fs::path path = fs::path(config_.output) / "metrics.jsonl";
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << record.dump() << "\n";
  out.flush();
  if (!out) throw Error(path.string() + ": cannot append a line");
}

void SftTrainer::train_steps(std::int64_t until) {
  until = std::min(until, total_steps_);
  const auto& t = config_.training;
  const std::size_t n = parts_.data.train.size();
  const auto start = Clock::now();
  const std::int64_t first = step_;
  double train_seconds = 0, window_seconds = 0, window_loss = 0;
  std::int64_t window_tokens = 0, window_steps = 0;
  while (step_ < until) {
    const auto step_start = Clock::now();
    const double lr = scheduled_lr(t.schedule, lr_, warmup_steps_, total_steps_, step_);
    const auto indices = batch_indices(n, step_, t.batch_size, static_cast<std::uint64_t>(runtime_.seed));
    const StepStats s = train_step(indices, lr);
    const double seconds = seconds_since(step_start);
    ++step_;
    tokens_seen_ += s.tokens;
    last_train_loss_ = s.loss;
    train_seconds += seconds;
    window_seconds += seconds;
    window_loss += s.loss;
    window_tokens += s.tokens;
    ++window_steps;
    const double epoch = static_cast<double>(step_) * t.batch_size / static_cast<double>(n);
    nlohmann::json record = {{"step", step_},
                              {"epoch", epoch},
                              {"lr", lr},
                              {"loss", s.loss},
                              {"grad_norm", s.grad_norm},
                              {"tokens", tokens_seen_},
                              {"tokens_per_s", static_cast<double>(s.tokens) / seconds}};
    if (scaler_.enabled()) {
      record["loss_scale"] = scaler_.scale();
      record["skipped"] = s.skipped;  // fp16 overflow: no update this step
    }
    append_metrics(record);
    if (step_ % t.log_interval == 0 || step_ == until) {
      const double left = train_seconds / static_cast<double>(step_ - first) * static_cast<double>(total_steps_ - step_);
      spdlog::info("sft step {}/{} (epoch {:.2f}): loss {:.4f}, lr {:.3g}, {:.0f} tokens/s, {:.0f} s left", step_,
                   total_steps_, epoch, window_loss / window_steps, lr, window_tokens / window_seconds, left);
      window_seconds = window_loss = 0;
      window_tokens = window_steps = 0;
    }
    if (t.eval_interval > 0 && step_ % t.eval_interval == 0 && step_ < total_steps_ && !parts_.data.validation.empty()) {
      validate();
    }
    if (t.save_interval > 0 && step_ % t.save_interval == 0 && step_ < total_steps_) save_checkpoint();
  }
  if (step_ > first) {
    spdlog::info("sft: {} steps in {:.1f} s ({:.1f} s with validation and checkpoints)", step_ - first, train_seconds,
                 seconds_since(start));
  }
}

nlohmann::json SftTrainer::finish() {
  nlohmann::json summary = {{"steps", step_},
                            {"total_steps", total_steps_},
                            {"train_examples", parts_.data.train.size()},
                            {"train_loss_last_step", last_train_loss_},
                            {"tokens", tokens_seen_},
                            {"mode", config_.data.mode},
                            {"sequence_length", parts_.sequence_length},
                            {"lr", lr_},
                            {"warmup_steps", warmup_steps_},
                            {"dropout", parts_.model->dropout()}};
  if (!parts_.data.validation.empty()) {
    const Evaluation e = validate();
    summary["validation_loss"] = e.loss;
    summary["validation_perplexity"] = e.perplexity;
    summary["validation_tokens"] = e.tokens;
  }
  if (config_.training.save_interval > 0) save_checkpoint();
  parts_.model->eval();
  const fs::path dir = fs::path(config_.output) / "model";
  model::SaveOptions options;
  options.metadata["rlhf"] = "sft";
  options.extra_files["sft.json"] = summary.dump(2) + "\n";
  model::save_gpt2(*parts_.model, dir, parts_.tokenizer.get(), {}, options);
  parts_.model->train();
  spdlog::info("sft: model written to {}", dir.string());
  return summary;
}

nlohmann::json SftTrainer::train() {
  train_steps(total_steps_);
  return finish();
}

nlohmann::json run_sft(const SftConfig& config, const core::Runtime& runtime) {
  SftParts parts = prepare_sft(config);
  config::save_resolved_config(config, fs::path(config.output) / "sft.config.json");
  const bool resuming = parts.from_checkpoint;
  SftTrainer trainer(config, std::move(parts), runtime);
  if (resuming) {
    trainer.resume();
  } else {
    write_file_atomic(fs::path(config.output) / "metrics.jsonl", "");  // a fresh run starts a fresh log
  }
  spdlog::info("sft: {} optimizer steps of {} rows{}", trainer.total_steps(), config.training.batch_size,
               trainer.step() > 0 ? ", resuming after step " + std::to_string(trainer.step()) : "");
  return trainer.train();
}

double benchmark_sft(model::Gpt2Impl& model, int batch_size, int sequence_length, int steps,
                     const core::TrainPrecision& precision) {
  if (batch_size < 1 || sequence_length < 1 || steps < 1) {
    throw Error("sft benchmark: batch_size, sequence_length and steps must be >= 1");
  }
  const int vocab = model.config().vocab_size;
  const at::Tensor random = at::randint(vocab, {(steps + 1) * batch_size, sequence_length + 1}, at::kLong);
  std::vector<SftExample> examples(static_cast<std::size_t>(random.size(0)));
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const at::Tensor row = random[static_cast<std::int64_t>(i)].contiguous();
    examples[i].tokens.assign(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
  }
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (auto& item : model.named_parameters()) params.emplace_back(item.key(), item.value());
  optim::AdamOptions adam_options;
  adam_options.style = optim::AdamStyle::PyTorch;
  optim::Adam adam(params, adam_options);
  optim::LossScalerOptions scaling;
  scaling.enabled = precision.loss_scaling();
  optim::LossScaler scaler(scaling);
  model.train();
  const auto run_step = [&](int k) {
    std::vector<const SftExample*> part;
    for (int b = 0; b < batch_size; ++b) part.push_back(&examples[static_cast<std::size_t>(k * batch_size + b)]);
    const SftBatch batch = make_batch(part);
    adam.zero_grad();
    at::Tensor loss;
    {
      compat::AutocastGuard autocast(precision.device, precision.dtype());  // the forward only
      loss = summed_loss(model, batch) / static_cast<double>(batch.target_count);
    }
    scaler.scale_loss(loss).backward();
    scaler.unscale(params);
    if (!scaler.update(!scaler.is_overflow(optim::gradients_finite(params)))) return;  // fp16 overflow: no step
    clip_gradients(params, 1.0);
    adam.step(1e-4);
    loss.item<double>();  // waits for the device
  };
  run_step(0);  // warm-up: allocations, lazy initialisation
  const auto start = Clock::now();
  for (int k = 1; k <= steps; ++k) run_step(k);
  const double seconds = seconds_since(start);
  model.eval();
  return static_cast<double>(batch_size) * sequence_length * steps / seconds;
}

}  // namespace rlhf::sft
