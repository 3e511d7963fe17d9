#include "rlhf/reward/training.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "rlhf/model/batching.h"
#include "rlhf/optim/adam.h"
#include "rlhf/optim/loss_scaler.h"
#include "rlhf/sampling/sampler.h"
#include "rlhf/util/error.h"

namespace rlhf::reward {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Right-pads rows into ids [R, T] with pad_id; the mask also drops pads inside rows (OpenAI's files).
std::pair<at::Tensor, at::Tensor> pad_rows(const std::vector<std::vector<int>>& rows, int pad_id, int vocab_size) {
  at::Tensor ids = model::pad_right(rows, pad_id).ids;
  return {ids, model::real_token_mask(ids, pad_id, vocab_size)};
}

std::vector<const data::Comparison*> pointers(const std::vector<data::Comparison>& items, std::size_t begin,
                                              std::size_t end) {
  std::vector<const data::Comparison*> out;
  for (std::size_t i = begin; i < end; ++i) out.push_back(&items[i]);
  return out;
}

at::Tensor best_of(const std::vector<const data::Comparison*>& items, const at::Device& device) {
  std::vector<std::int64_t> best;
  for (const auto* c : items) best.push_back(c->best);
  return at::tensor(best, at::kLong).to(device);
}

double accuracy_of(const at::Tensor& rewards, const at::Tensor& best) {
  return rewards.argmax(-1).eq(best).to(at::kDouble).mean().item<double>();
}

}  // namespace

std::pair<at::Tensor, at::Tensor> comparison_batch(const std::vector<const data::Comparison*>& items, int pad_id,
                                                   int vocab_size) {
  std::vector<std::vector<int>> rows;
  for (const auto* c : items) {
    for (const auto& sample : c->samples) {
      std::vector<int> row = c->query;
      row.insert(row.end(), sample.begin(), sample.end());
      rows.push_back(std::move(row));
    }
  }
  return pad_rows(rows, pad_id, vocab_size);
}

at::Tensor candidate_rewards(RewardModelImpl& model, const std::vector<const data::Comparison*>& items, int pad_id) {
  if (items.empty()) throw Error("candidate_rewards: no comparisons");
  const auto N = static_cast<std::int64_t>(items.front()->samples.size());
  auto [ids, mask] = comparison_batch(items, pad_id, model.trunk->config().vocab_size);
  const at::Device device = model.trunk->wte->weight.device();
  return model.forward(ids.to(device), mask.to(device)).view({-1, N});  // [B, N]
}

Evaluation evaluate(RewardModelImpl& model, const std::vector<data::Comparison>& items, int pad_id, int batch_size) {
  Evaluation result;
  if (items.empty()) return result;
  at::NoGradGuard no_grad;
  double loss_sum = 0, correct = 0;
  for (std::size_t start = 0; start < items.size(); start += batch_size) {
    const auto batch = pointers(items, start, std::min(items.size(), start + batch_size));
    const at::Tensor rewards = candidate_rewards(model, batch, pad_id);
    const at::Tensor best = best_of(batch, rewards.device());
    const auto B = static_cast<double>(batch.size());
    loss_sum += comparison_loss(rewards, best).item<double>() * B;
    correct += accuracy_of(rewards, best) * B;
  }
  result.count = items.size();
  result.loss = loss_sum / result.count;
  result.accuracy = correct / result.count;
  return result;
}

namespace {

struct StepResult {
  double loss = 0;
  double accuracy = 0;
  bool skipped = false;  // fp16: the loss scaler skipped the update
};

// One optimizer step on `batch`: forward and backward in microbatches (the loss of each scaled by its
// share of the batch, so the accumulated gradient is that of the batch mean), then Adam with `lr`.
StepResult train_step(RewardModelImpl& model, optim::Adam& adam, const std::vector<const data::Comparison*>& batch,
                      double lr, int pad_id, int microbatch_size, const core::TrainPrecision& precision = {},
                      optim::LossScaler* scaler = nullptr) {
  const std::size_t micro = microbatch_size > 0 ? static_cast<std::size_t>(microbatch_size) : batch.size();
  const auto B = static_cast<double>(batch.size());
  StepResult result;
  adam.zero_grad();
  for (std::size_t start = 0; start < batch.size(); start += micro) {
    const std::vector<const data::Comparison*> part(batch.begin() + start,
                                                    batch.begin() + std::min(batch.size(), start + micro));
    at::Tensor rewards;  // fp32 [b, N]
    {
      compat::AutocastGuard autocast(precision.device, precision.dtype());  // the forward only
      rewards = candidate_rewards(model, part, pad_id);
    }
    const at::Tensor best = best_of(part, rewards.device());
    const at::Tensor loss = comparison_loss(rewards, best);
    const double share = static_cast<double>(part.size()) / B;
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      throw Error("reward training: the loss became " + std::to_string(loss_value) + " at step " +
                  std::to_string(adam.steps() + 1) + "; try a lower training.lr");
    }
    (scaler != nullptr ? scaler->scale_loss(loss * share) : loss * share).backward();
    result.loss += loss_value * share;
    result.accuracy += accuracy_of(rewards.detach(), best) * share;
  }
  if (scaler != nullptr && scaler->enabled()) {
    scaler->unscale(adam.params());
    if (scaler->is_overflow(optim::gradients_finite(adam.params()))) {
      scaler->update(false);
      adam.zero_grad();
      result.skipped = true;
      spdlog::info("reward step {}: fp16 gradients overflowed; update skipped, loss scale now {}", adam.steps() + 1,
                   scaler->scale());
      return result;
    }
    scaler->update(true);
  }
  adam.step(lr);
  return result;
}

optim::Adam make_adam(RewardModelImpl& model, const RewardTrainingOptions& options) {
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (auto& item : model.named_parameters()) params.emplace_back(item.key(), item.value());
  optim::AdamOptions adam_options;
  adam_options.eps = options.adam_eps;
  adam_options.style = optim::parse_adam_style(options.adam_style);
  return optim::Adam(params, adam_options);
}

}  // namespace

std::size_t longest_comparison(const std::vector<data::Comparison>& items, int pad_id, int vocab_size) {
  const auto real = [&](const std::vector<int>& ids) {
    return static_cast<std::size_t>(
        std::count_if(ids.begin(), ids.end(), [&](int id) { return id != pad_id && id >= 0 && id < vocab_size; }));
  };
  std::size_t longest = 0;
  for (const auto& c : items) {
    for (const auto& sample : c.samples) longest = std::max(longest, real(c.query) + real(sample));
  }
  return longest;
}

nlohmann::json train_reward_model(RewardModelImpl& model, const std::vector<data::Comparison>& train,
                                  const std::vector<data::Comparison>& validation, const RewardTrainingOptions& options,
                                  int pad_id, const std::function<void(const nlohmann::json&)>& on_record,
                                  const core::TrainPrecision& precision) {
  if (train.empty()) throw Error("reward training: no training comparisons");
  optim::Adam adam = make_adam(model, options);
  optim::LossScalerOptions scaling;
  scaling.enabled = precision.loss_scaling();
  optim::LossScaler scaler(scaling);
  const std::size_t n = train.size();
  const std::size_t batch_size = static_cast<std::size_t>(options.batch_size);
  const std::size_t total = n * static_cast<std::size_t>(options.epochs);
  const std::size_t total_steps = (n + batch_size - 1) / batch_size * options.epochs;
  const auto emit = [&](const nlohmann::json& record) {
    if (on_record) on_record(record);
  };
  const auto validate = [&](std::size_t step) {
    model.eval();
    Evaluation e;
    {
      compat::AutocastGuard autocast(precision.device, precision.dtype());  // measured as it trains
      e = evaluate(model, validation, pad_id, options.microbatch_size > 0 ? options.microbatch_size : options.batch_size);
    }
    model.train();
    emit({{"eval", true}, {"step", step}, {"validation_loss", e.loss}, {"validation_accuracy", e.accuracy}});
    return e;
  };
  const auto run_start = Clock::now();
  std::size_t step = 0, consumed = 0;
  double epoch_loss = 0, epoch_accuracy = 0, epoch_steps = 0;
  model.train();
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    // One random order per epoch from the seeded default generator (the paper: one permutation).
    const at::Tensor order = at::randperm(static_cast<std::int64_t>(n), at::kLong);
    const auto* order_data = order.data_ptr<std::int64_t>();
    epoch_loss = epoch_accuracy = epoch_steps = 0;
    for (std::size_t start = 0; start < n; start += batch_size) {
      const auto step_start = Clock::now();
      std::vector<const data::Comparison*> batch;
      for (std::size_t i = start; i < std::min(n, start + batch_size); ++i) batch.push_back(&train[order_data[i]]);
      // lr_t = lr * (1 - start_index / num_train), as the paper's code.
      const double lr = options.lr * (1.0 - static_cast<double>(consumed) / static_cast<double>(total));
      const StepResult r = train_step(model, adam, batch, lr, pad_id, options.microbatch_size, precision, &scaler);
      ++step;
      consumed += batch.size();
      epoch_loss += r.loss;
      epoch_accuracy += r.accuracy;
      epoch_steps += 1;
      const double rate = static_cast<double>(batch.size()) / seconds_since(step_start);
      nlohmann::json step_record = {{"step", step},         {"epoch", epoch},       {"lr", lr},
                                    {"loss", r.loss},       {"accuracy", r.accuracy}, {"comparisons_per_s", rate}};
      if (scaler.enabled()) {
        step_record["loss_scale"] = scaler.scale();
        step_record["skipped"] = r.skipped;  // fp16 overflow: no update this step
      }
      emit(step_record);
      if (step % options.log_interval == 0 || step == total_steps) {
        const double so_far = seconds_since(run_start);
        const double left = so_far / static_cast<double>(consumed) * static_cast<double>(total - consumed);
        spdlog::info("reward step {}/{}: loss {:.4f}, accuracy {:.3f}, lr {:.3g}, {:.1f} comparisons/s, {:.0f} s left",
                     step, total_steps, r.loss, r.accuracy, lr, static_cast<double>(consumed) / so_far, left);
      }
      if (options.eval_interval > 0 && step % options.eval_interval == 0 && step != total_steps &&
          !validation.empty()) {
        const Evaluation e = validate(step);
        spdlog::info("reward validation at step {}: loss {:.4f}, accuracy {:.3f}", step, e.loss, e.accuracy);
      }
    }
  }
  const double seconds = seconds_since(run_start);
  nlohmann::json summary = {{"steps", step},
                            {"comparisons", consumed},
                            {"seconds", seconds},
                            {"comparisons_per_s", static_cast<double>(consumed) / seconds},
                            {"train_loss", epoch_loss / epoch_steps},
                            {"train_accuracy", epoch_accuracy / epoch_steps}};
  if (scaler.enabled()) summary["overflow_skips"] = scaler.skipped_steps();
  if (!validation.empty()) {
    const Evaluation e = validate(step);
    summary["validation_loss"] = e.loss;
    summary["validation_accuracy"] = e.accuracy;
    summary["validation_count"] = e.count;
    spdlog::info("reward validation: loss {:.4f}, accuracy {:.3f} on {} comparisons", e.loss, e.accuracy, e.count);
  }
  model.eval();
  return summary;
}

NormalizationStats normalize_reward_model(RewardModelImpl& model, model::Gpt2Impl& reference,
                                          const std::vector<std::vector<int>>& contexts,
                                          const std::vector<std::vector<int>>& raw_queries,
                                          const NormalizationOptions& options, int pad_id,
                                          const core::TrainPrecision& precision) {
  if (contexts.empty() || contexts.size() != raw_queries.size()) {
    throw Error("reward normalisation: no queries to sample from");
  }
  at::NoGradGuard no_grad;
  model.reset_normalization();
  const at::Device device = reference.wte->weight.device();
  const int vocab = reference.config().vocab_size;
  sampling::SamplingOptions sampling;
  sampling.temperature = options.temperature;
  sampling.max_new_tokens = options.response_length;
  sampling.stop_at_eos = false;  // the paper: fixed length, untruncated, no penalty
  std::vector<at::Tensor> rewards;
  std::size_t next = 0, drawn = 0;
  while (drawn < static_cast<std::size_t>(options.samples)) {
    const std::size_t batch = std::min<std::size_t>(options.rollout_batch_size, options.samples - drawn);
    std::vector<std::vector<int>> ctx, raw;
    for (std::size_t i = 0; i < batch; ++i, next = (next + 1) % contexts.size()) {
      ctx.push_back(contexts[next]);
      raw.push_back(raw_queries[next]);
    }
    auto [ctx_ids, ctx_mask] = pad_rows(ctx, pad_id, vocab);
    const auto samples = sampling::sample(reference, ctx_ids.to(device), ctx_mask.to(device), sampling);
    const at::Tensor query = pad_rows(raw, pad_id, vocab).first.to(device);
    compat::AutocastGuard autocast(precision.device, precision.dtype());  // scored as it trains
    rewards.push_back(model.score(query, samples.tokens.to(model.trunk->wte->weight.device()), pad_id).to(at::kDouble));
    drawn += batch;
  }
  const at::Tensor all = at::cat(rewards).cpu();
  NormalizationStats stats;
  stats.count = static_cast<std::size_t>(all.numel());
  stats.raw_mean = all.mean().item<double>();
  stats.raw_std = std::sqrt((all - stats.raw_mean).pow(2).mean().item<double>());  // population std
  model.set_normalization(stats.raw_mean, stats.raw_std);
  spdlog::info("reward normalisation: {} reference samples, raw mean {:.4f}, std {:.4f} -> gain {:.4f}, bias {:.4f}",
               stats.count, stats.raw_mean, stats.raw_std, model.gain.item<double>(), model.bias.item<double>());
  return stats;
}

double benchmark_training(RewardModelImpl& model, int batch_size, int num_samples, int query_length, int sample_length,
                          int steps, const core::TrainPrecision& precision) {
  if (batch_size < 1 || num_samples < 2 || query_length < 1 || sample_length < 1 || steps < 1) {
    throw Error("reward benchmark: batch_size, query_length, sample_length and steps must be >= 1, num_samples >= 2");
  }
  const int vocab = model.trunk->config().vocab_size;
  std::vector<data::Comparison> items(static_cast<std::size_t>(batch_size) * (steps + 1));
  const at::Tensor random = at::randint(
      vocab, {static_cast<std::int64_t>(items.size()), num_samples + 1, std::max(query_length, sample_length)},
      at::kLong);
  auto a = random.accessor<std::int64_t, 3>();
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (int t = 0; t < query_length; ++t) items[i].query.push_back(static_cast<int>(a[i][0][t]));
    items[i].samples.resize(num_samples);
    for (int n = 0; n < num_samples; ++n) {
      for (int t = 0; t < sample_length; ++t) items[i].samples[n].push_back(static_cast<int>(a[i][n + 1][t]));
    }
  }
  optim::Adam adam = make_adam(model, RewardTrainingOptions{});
  model.train();
  const auto batch = [&](int k) { return pointers(items, k * batch_size, (k + 1) * batch_size); };
  // Step 0 is a warm-up (allocations, lazy initialisation); the loss is read each step, which waits
  // for the device, so the clock sees finished work.
  optim::LossScalerOptions scaling;
  scaling.enabled = precision.loss_scaling();
  optim::LossScaler scaler(scaling);
  train_step(model, adam, batch(0), 1e-6, data::kOpenAiPad, 0, precision, &scaler);
  const auto start = Clock::now();
  for (int k = 1; k <= steps; ++k) train_step(model, adam, batch(k), 1e-6, data::kOpenAiPad, 0, precision, &scaler);
  const double seconds = seconds_since(start);
  model.eval();
  return static_cast<double>(batch_size) * steps / seconds;
}

}  // namespace rlhf::reward
