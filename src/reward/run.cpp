// The reward-model run shared by `rlhf train-reward` and the reward stage of `rlhf train`.
#include "rlhf/reward/run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <tuple>

#include "rlhf/model/checkpoint.h"
#include "rlhf/model/inference.h"
#include "rlhf/reward/accuracy.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::reward {
namespace {

namespace fs = std::filesystem;

// Policy inputs and raw queries for normalisation samples: the query dataset's (prefix + padded query +
// suffix, and the padded query), or without one the label file's training queries (both roles).
std::pair<std::vector<std::vector<int>>, std::vector<std::vector<int>>> normalization_queries(
    const TrainRewardConfig& config, const tokenizer::Tokenizer& tokenizer,
    const std::vector<data::Comparison>& labels) {
  std::vector<std::vector<int>> contexts, raw;
  if (!config.queries.path.empty()) {
    const auto dataset = data::QueryDataset::load(config.queries, tokenizer);
    for (std::size_t i = 0; i < dataset.size(); ++i) {
      contexts.push_back(dataset.context(i));
      raw.push_back(dataset[i].tokens);
    }
  } else {
    spdlog::info("normalisation: no queries.path, sampling continuations of the label file's queries");
    for (const auto& c : labels) {
      contexts.push_back(c.query);
      raw.push_back(c.query);
    }
  }
  return {contexts, raw};
}

// Problems that would otherwise surface only after a long run: an output path that cannot be written,
// pad ids that disagree.
void check_before_loading(const TrainRewardConfig& config) {
  if (config.model.empty()) throw Error("model: no pretrained model directory given (--model DIR)");
  if (config.labels.path.empty()) throw Error("labels.path: no label file given (--labels FILE)");
  if (config.output.empty()) throw Error("output: no output directory given (--output DIR)");
  std::error_code ec;
  if (!fs::is_directory(config.model, ec)) throw Error("model: " + config.model + " is not a directory");
  if (fs::exists(config.output, ec) && !fs::is_directory(config.output, ec)) {
    throw Error("output: " + config.output + " exists and is not a directory");
  }
  const fs::path parent = fs::path(config.output).parent_path();
  check_writable_directory(parent.empty() ? fs::path(".") : parent, "output");
  { StagedDirectory probe(config.output); }  // the staging directory can be made; it is removed again
  if (!config.queries.path.empty() && config.queries.pad_id != config.labels.options.pad_id) {
    throw Error("queries.pad_id (" + std::to_string(config.queries.pad_id) + ") differs from labels.pad_id (" +
                std::to_string(config.labels.options.pad_id) + "); the reward model masks one pad id");
  }
}

// Everything the model reads must fit its context.
void check_lengths(const TrainRewardConfig& config, const model::Gpt2Config& model_config,
                   const std::vector<data::Comparison>& labels, const std::vector<std::vector<int>>& contexts) {
  const auto context = static_cast<std::size_t>(model_config.n_positions);
  const int pad_id = config.labels.options.pad_id;
  const std::size_t longest = longest_comparison(labels, pad_id, model_config.vocab_size);
  if (longest > context) {
    throw_file_error(config.labels.path, "a query with a sample has " + std::to_string(longest) +
                                             " tokens, more than the model's context of " + std::to_string(context) +
                                             " (set labels.max_query_length / max_sample_length to find it)");
  }
  const bool normalize = config.normalization.before || config.normalization.after;
  std::size_t widest = 0;
  for (const auto& c : contexts) widest = std::max(widest, c.size());
  if (normalize && widest + config.normalization.response_length > context) {
    throw Error("normalization.response_length: " + std::to_string(config.normalization.response_length) +
                " tokens after queries of " + std::to_string(widest) + " (" +
                (config.queries.path.empty() ? config.labels.path : config.queries.path) +
                ") exceed the model's context of " + std::to_string(context));
  }
}

}  // namespace

void check_reward_run(const TrainRewardConfig& config) { check_before_loading(config); }

nlohmann::json run_reward_training(const TrainRewardConfig& config, const core::Runtime& runtime) {
  check_before_loading(config);

  const auto tokenizer = tokenizer::load_tokenizer(config.model);
  const data::LabelSet labels = data::read_labels(config.labels.path, *tokenizer, config.labels.options);
  if (labels.skipped > 0) spdlog::warn("{}: skipped {} bad records", config.labels.path, labels.skipped);
  auto [train, validation] =
      data::split_labels(labels.items, config.training.validation_fraction, static_cast<std::uint64_t>(runtime.seed));
  spdlog::info("{}: {} comparisons of {} samples: {} for training, {} held out", config.labels.path,
               labels.items.size(), labels.num_samples, train.size(), validation.size());
  const int pad_id = config.labels.options.pad_id;
  const bool normalize = config.normalization.before || config.normalization.after;
  std::vector<std::vector<int>> contexts, raw_queries;
  if (normalize) std::tie(contexts, raw_queries) = normalization_queries(config, *tokenizer, train);

  // Weights train in fp32 under runtime.train_precision's autocast (--precision applies to the reference
  // policy's sampling and to scoring).
  RewardModel model = make_reward_model(config.model);
  check_lengths(config, model->trunk->config(), labels.items, contexts);
  model->to(runtime.device);
  model::Gpt2 reference{nullptr};
  if (normalize) reference = model::load_inference_model(config.model, runtime);

  nlohmann::json info = {{"pad_id", pad_id},
                         {"num_samples", labels.num_samples},
                         {"labels", config.labels.path},
                         {"pretrained", config.model},
                         {"normalization", {{"target_mean", 0.0}, {"target_std", 1.0}}}};
  std::string metrics;
  const auto record = [&](const nlohmann::json& r) { metrics += r.dump() + "\n"; };
  const auto normalize_now = [&](const char* when) {
    const auto s =
        normalize_reward_model(*model, *reference, contexts, raw_queries, config.normalization, pad_id,
                               core::train_precision(runtime));
    info[std::string("normalization_") + when] = {{"raw_mean", s.raw_mean},
                                                  {"raw_std", s.raw_std},
                                                  {"samples", s.count},
                                                  {"gain", model->gain.item<double>()},
                                                  {"bias", model->bias.item<double>()}};
    record({{"normalization", when}, {"raw_mean", s.raw_mean}, {"raw_std", s.raw_std}, {"samples", s.count}});
  };
  if (config.normalization.before) normalize_now("before");
  info["training"] = train_reward_model(*model, train, validation, config.training, pad_id, record,
                                        core::train_precision(runtime));
  info["training"]["train_count"] = train.size();
  add_accuracy_ceilings(info["training"], train, validation);
  spdlog::info("reward model: {}", describe_accuracy(info["training"], "train"));
  if (!validation.empty()) {
    spdlog::info("reward model: {} on {} held-out comparisons", describe_accuracy(info["training"], "validation"),
                 validation.size());
  }
  if (config.normalization.after) normalize_now("after");
  save_reward_model(
      *model, config.output, *tokenizer, info,
      {{"metrics.jsonl", metrics}, {"train_reward.config.json", config::to_json(config).dump(2) + "\n"}});
  spdlog::info("reward model written to {}", config.output);
  return info;
}


}  // namespace rlhf::reward
