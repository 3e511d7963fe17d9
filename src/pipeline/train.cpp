#include "rlhf/pipeline/train.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "rlhf/config/config.h"
#include "rlhf/config/diff.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/eval/policy_eval.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/model/inference.h"
#include "rlhf/pipeline/report.h"
#include "rlhf/pipeline/stages.h"
#include "rlhf/ppo/trainer.h"
#include "rlhf/reward/run.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::pipeline {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool uses_labeler(const TrainConfig& c) {
  return c.labels.source == "mock" || c.policy.reward == "labeler";
}
bool needs_reward_model(const TrainConfig& c) {
  return c.policy.reward == "reward_model";
}

// Keys that may change between a run and its resumption without changing its results.
bool ignorable_key(const std::string& key) {
  return key == "runtime.threads" || key == "runtime.log_level" || key == "runtime.device";
}

// An existing run directory must hold the same experiment.
void check_saved_config(const TrainConfig& config, const RunPaths& paths, bool force) {
  if (!fs::exists(paths.config())) return;
  TrainConfig saved;
  config::read_config_file(saved, paths.config());
  std::vector<std::string> changes;
  for (const auto& change : config::changed_keys(config::to_json(saved), config::to_json(config))) {
    if (!ignorable_key(change.key)) changes.push_back(change.describe());
  }
  if (changes.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < changes.size() && i < 8; ++i) list += "\n  " + changes[i];
  if (force) {
    spdlog::warn("{}: continuing with a changed configuration (--force):{}", paths.root.string(), list);
    return;
  }
  throw Error(paths.config().string() + ": this run directory holds a run with another configuration:" + list +
              "\nuse another run_dir, or --force to continue it with the new values (finished stages are kept)");
}

// Appends the log to run_dir/train.log as well as the console.
void log_to_run_dir(const RunPaths& paths) {
  auto logger = spdlog::default_logger();
  for (const auto& sink : logger->sinks()) {
    if (std::dynamic_pointer_cast<spdlog::sinks::basic_file_sink_mt>(sink)) return;
  }
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(paths.log().string());
  file->set_pattern("[%Y-%m-%d %H:%M:%S] %l %v");
  logger->sinks().push_back(file);
  // Every line reaches the file at once: a run killed at any moment keeps its log up to that moment.
  logger->flush_on(spdlog::level::trace);
}

// The labeler's files exist (its kind's fields are checked with the configuration).
void check_labeler(const labelers::LabelerOptions& o) {
  std::error_code ec;
  if (o.kind == "lexicon" && !fs::is_regular_file(o.lexicon, ec)) {
    throw Error("labels.labeler.lexicon: " + o.lexicon + ": no such file");
  }
  if (o.kind == "reward_model" && !fs::exists(fs::path(o.model_dir) / "reward_model.json", ec)) {
    throw Error("labels.labeler.model_dir: " + o.model_dir + " is not a reward-model directory (no reward_model.json)");
  }
}

std::string format_seconds(double s) {
  const auto total = static_cast<long>(s + 0.5);
  if (total < 60) return std::to_string(total) + "s";
  return std::to_string(total / 60) + "m" + (total % 60 < 10 ? "0" : "") + std::to_string(total % 60) + "s";
}

}  // namespace

void TrainConfig::check() const {
  if (model.empty()) throw Error("model: no pretrained GPT-2 directory given (--model DIR)");
  if (run_dir.empty()) throw Error("run_dir: no run directory given (--run-dir DIR)");
  if (needs_reward_model(*this) && labels.source == "file" && labels.path.empty()) {
    throw Error("labels.path: no label file given (or set labels.source = mock, or policy.reward = labeler)");
  }
  if (labels.rounds > 1 && (labels.source != "mock" || !needs_reward_model(*this))) {
    throw Error("labels.rounds: batched collection needs labels.source = mock and policy.reward = reward_model");
  }
  if (policy.reward == "labeler" && labels.labeler.kind == "person") {
    throw Error("policy.reward: a person (labels.labeler.kind = person) cannot be PPO's reward; use reward_model");
  }
  if (labels.rounds > policy.ppo.num_batches()) {
    throw Error("labels.rounds: " + std::to_string(labels.rounds) + " rounds but only " +
                std::to_string(policy.ppo.num_batches()) + " PPO batches");
  }
  if (task.truncate_token >= 0 && task.truncate_after >= task.response_length) {
    throw Error("task.truncate_after: " + std::to_string(task.truncate_after) +
                " leaves no room for the truncate token in responses of " + std::to_string(task.response_length) +
                " tokens");
  }
  if (needs_reward_model(*this) && labels.source == "file" && labels.options.pad_id != task.queries.pad_id) {
    throw Error("labels.pad_id (" + std::to_string(labels.options.pad_id) + ") differs from task.queries.pad_id (" +
                std::to_string(task.queries.pad_id) + "); the models mask one pad id");
  }
}

void check_train(const TrainConfig& config, const TrainOptions& options) {
  const RunPaths paths{config.run_dir};
  std::error_code ec;
  if (!fs::is_directory(config.model, ec)) throw Error("model: " + config.model + " is not a directory");
  if (!fs::exists(fs::path(config.model) / "config.json", ec)) {
    throw Error("model: " + config.model + " has no config.json (a Hugging Face GPT-2 directory is expected)");
  }
  if (needs_reward_model(config) && config.labels.source == "file" && !fs::is_regular_file(config.labels.path, ec)) {
    throw Error("labels.path: " + config.labels.path + ": no such file");
  }
  if (!config.eval.queries_path.empty() && !fs::is_regular_file(config.eval.queries_path, ec)) {
    throw Error("eval.queries_path: " + config.eval.queries_path + ": no such file");
  }
  if (uses_labeler(config)) check_labeler(config.labels.labeler);
  if (fs::exists(paths.root, ec) && !fs::is_directory(paths.root, ec)) {
    throw Error("run_dir: " + paths.root.string() + " exists and is not a directory");
  }
  check_writable_directory(paths.root, "run_dir");
  check_saved_config(config, paths, options.force);
}

nlohmann::ordered_json run_train(const TrainConfig& config, const core::Runtime& runtime, const TrainOptions& options) {
  const auto start = Clock::now();
  const RunPaths paths{config.run_dir};
  check_train(config, options);
  // The model and the data are checked before anything is written or any long stage starts.
  StageContext context = load_context(config, runtime);
  fs::create_directories(paths.root);
  log_to_run_dir(paths);
  config::save_resolved_config(config, paths.config());
  spdlog::info("rlhf train: run directory {}", paths.root.string());

  // Round r: labels from the policy as it is, a reward model on every label so far, the next
  // 1/rounds of PPO. One round is the paper's offline experiment.
  const int rounds = needs_reward_model(config) ? config.labels.rounds : 1;
  const std::int64_t batches = config.policy.ppo.num_batches();
  nlohmann::ordered_json round_results = nlohmann::ordered_json::array();
  try {
    for (int round = 0; round < rounds; ++round) {
      const std::int64_t stop = (batches * (round + 1) + rounds - 1) / rounds;
      if (needs_reward_model(config)) {
        if (config.labels.source == "mock") {
          run_label_stage(config, context, paths, round, round == 0 ? fs::path(config.model) : paths.final_policy());
        }
        run_reward_stage(config, context, paths, round);
      }
      const bool done =
          run_policy_stage(config, context, paths, options.max_ppo_batches, paths.round_reward_model(round), stop);
      if (!done) {
        spdlog::info("PPO stopped before the end (--max-ppo-batches); run the same command again to continue");
        return {{"finished", false}};
      }
      if (rounds > 1) round_results.push_back(run_round_eval(config, context, paths, round));
    }
  } catch (const WaitingForPerson& waiting) {
    spdlog::info("{}", waiting.message);
    return {{"finished", false}, {"waiting_for_person", waiting.message}};
  }
  nlohmann::ordered_json summary = run_eval_stage(config, context, paths);
  if (rounds > 1) summary["rounds"] = round_results;
  summary["seconds_this_invocation"] = std::chrono::duration<double>(Clock::now() - start).count();
  write_file_atomic(paths.summary(), summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_file_atomic(paths.summary_text(), render_summary(summary));
  spdlog::info("rlhf train: finished in {} (this invocation); summary in {}",
               format_seconds(summary["seconds_this_invocation"].get<double>()), paths.summary_text().string());
  return summary;
}

}  // namespace rlhf::pipeline
