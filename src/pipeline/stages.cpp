#include "rlhf/pipeline/stages.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "rlhf/core/torch_compat.h"
#include "rlhf/data/ceiling.h"
#include "rlhf/eval/policy_eval.h"
#include "rlhf/labelers/labelers.h"
#include "rlhf/labelers/session.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/model/inference.h"
#include "rlhf/ppo/trainer.h"
#include "rlhf/reward/accuracy.h"
#include "rlhf/reward/run.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::pipeline {
namespace {

namespace fs = std::filesystem;

enum Stage { kLabels = 1, kReward = 2, kEval = 4 };

int pad_id(const TrainConfig& c) {
  return c.task.queries.pad_id;
}

nlohmann::json read_json_file(const fs::path& path) {
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not valid JSON (" + e.what() + "); delete it to redo its stage");
  }
}

// The configuration `rlhf train-reward` would take for this stage.
reward::TrainRewardConfig reward_config(const TrainConfig& c, const RunPaths& paths, int round) {
  reward::TrainRewardConfig r;
  r.runtime = c.runtime;
  r.model = c.model;
  if (c.labels.source == "mock") {
    r.labels.path = paths.training_labels(round).string();
    r.labels.options.format = "openai";
    r.labels.options.pad_id = pad_id(c);
  } else {
    r.labels.path = c.labels.path;
    r.labels.options = c.labels.options;
  }
  r.queries = c.task.queries;  // normalisation samples continue the task's queries, as OpenAI's code does
  r.training = c.reward_model.training;
  const NormalizationStage& n = c.reward_model.normalization;
  r.normalization.before = n.before;
  r.normalization.after = n.after;
  r.normalization.samples = n.samples;
  r.normalization.rollout_batch_size = n.rollout_batch_size;
  r.normalization.temperature = c.task.temperature;
  r.normalization.response_length = c.task.response_length;
  r.output = paths.round_reward_model(round).string();
  return r;
}

// Means of the last `n` PPO batches' metrics (policy/metrics.jsonl).
nlohmann::ordered_json recent_ppo_metrics(const fs::path& metrics, std::size_t n) {
  std::ifstream in(metrics);
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    try {
      records.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      // A line cut by a kill is not a result; the checkpoint is what counts.
    }
  }
  nlohmann::ordered_json out;
  out["batches"] = records.size();
  if (records.empty()) return out;
  const std::size_t from = records.size() > n ? records.size() - n : 0;
  double score = 0, kl = 0;
  for (std::size_t i = from; i < records.size(); ++i) {
    score += records[i].value("score_mean", 0.0);
    kl += records[i].value("kl", 0.0);
  }
  const double count = static_cast<double>(records.size() - from);
  out["last_batches"] = records.size() - from;
  out["score_mean"] = score / count;
  out["kl_mean"] = kl / count;
  out["first_score_mean"] = records.front().value("score_mean", 0.0);
  out["final_kl_coef"] = records.back().value("kl_coef_next", 0.0);
  out["episodes"] = records.back().value("episodes", 0);
  return out;
}

// A person's answers are complete when `rlhf label` has no question left (its progress file says so).
bool person_finished(const RunPaths& paths, int round, const tokenizer::Tokenizer& tokenizer) {
  const fs::path labels = paths.round_labels(round);
  if (!fs::exists(labelers::progress_path(labels))) return true;  // labels made elsewhere, taken as they are
  data::LabelOptions options;
  options.format = "openai";
  labelers::LabelSession session(data::read_questions(paths.round_questions(round), tokenizer, options).items);
  return labelers::load_session(labels, session, paths.round_questions(round).string()) && session.done();
}

std::string person_message(const TrainConfig& c, const RunPaths& paths, int round) {
  return "round " + std::to_string(round) +
         ": waiting for a person's answers. Label the questions with\n  rlhf label --model " + c.model + " --in " +
         paths.round_questions(round).string() + " -o " + paths.round_labels(round).string() +
         "\nthen run the same `rlhf train` command again";
}

eval::EvalOptions eval_options(const TrainConfig& c) {
  eval::EvalOptions o;
  o.response_length = c.task.response_length;
  o.temperature = c.task.temperature;
  o.truncation = {c.task.truncate_token, c.task.truncate_after, pad_id(c), c.task.penalty_reward_value};
  o.batch_size = c.eval.batch_size;
  o.samples_shown = c.eval.samples_shown;
  o.seed = eval_seed(c);
  return o;
}

}  // namespace

std::uint64_t eval_seed(const TrainConfig& config) {
  return stage_seed(static_cast<std::uint64_t>(config.runtime.seed), kEval);
}

std::uint64_t stage_seed(std::uint64_t seed, int stage) {
  return seed * 1000003ULL + static_cast<std::uint64_t>(stage);
}

StageContext load_context(const TrainConfig& config, const core::Runtime& runtime) {
  StageContext c;
  c.runtime = runtime;
  c.model_config = model::load_gpt2_config(fs::path(config.model) / "config.json");
  c.tokenizer = tokenizer::load_tokenizer(config.model);
  c.queries = std::make_shared<const data::QueryDataset>(data::QueryDataset::load(config.task.queries, *c.tokenizer));
  if (config.eval.queries_path.empty()) {
    c.eval_queries = c.queries;
  } else {
    data::QueryOptions eval = config.task.queries;
    eval.path = config.eval.queries_path;
    c.eval_queries = std::make_shared<const data::QueryDataset>(data::QueryDataset::load(eval, *c.tokenizer));
  }
  const auto& task = config.task;
  const std::size_t context = c.queries->context(0).size();
  if (static_cast<std::int64_t>(context) + task.response_length > c.model_config.n_positions) {
    throw Error("task.response_length: " + std::to_string(task.response_length) + " tokens after a context of " +
                std::to_string(context) + " (prefix + query_length + suffix) exceed the model's " +
                std::to_string(c.model_config.n_positions) + " positions (" + config.model + "/config.json)");
  }
  if (task.truncate_token >= c.model_config.vocab_size) {
    throw Error("task.truncate_token: " + std::to_string(task.truncate_token) +
                " is outside the model's vocabulary of " + std::to_string(c.model_config.vocab_size));
  }
  return c;
}

void run_label_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths, int round,
                     const fs::path& policy_dir) {
  const fs::path out = paths.round_labels(round);
  const bool person = config.labels.labeler.kind == "person";
  if (fs::exists(out) && !(person && !person_finished(paths, round, *context.tokenizer))) {
    spdlog::info("labels: done ({}), skipping", out.string());
    return;
  }
  if (person && fs::exists(paths.round_questions(round))) throw WaitingForPerson{person_message(config, paths, round)};
  const LabelStage& stage = config.labels;
  spdlog::info("labels{}: sampling {} questions of {} samples from {}, answered by the {} labeler",
               config.labels.rounds > 1 ? " round " + std::to_string(round) : std::string(), stage.questions,
               stage.num_samples, policy_dir.string(), stage.labeler.kind);
  const auto seed = stage_seed(static_cast<std::uint64_t>(config.runtime.seed), kLabels + 10 * round);
  compat::manual_seed(seed);
  // A PPO checkpoint holds a value head besides the GPT-2: load it as a policy and keep the trunk.
  model::Gpt2 policy = ppo::load_policy(policy_dir)->trunk;
  model::place_for_inference(*policy, context.runtime);
  const auto& queries = *context.queries;
  std::vector<std::vector<int>> contexts, raw;
  for (std::size_t i :
       queries.batch_indices(static_cast<std::size_t>(round), static_cast<std::size_t>(stage.questions))) {
    contexts.push_back(queries.context(i));
    raw.push_back(queries[i].tokens);
  }
  labelers::QuestionOptions q;
  q.num_samples = stage.num_samples;
  q.response_length = config.task.response_length;
  q.temperature = config.task.temperature;
  q.truncate_token = config.task.truncate_token;
  q.truncate_after = config.task.truncate_after;
  q.max_attempts = stage.max_attempts;
  q.batch_size = stage.batch_size;
  labelers::QuestionStats stats;
  std::vector<data::Comparison> items =
      labelers::sample_questions(*policy, contexts, raw, q, pad_id(config), seed, &stats);
  if (person) {
    fs::create_directories(paths.labels_dir());
    fs::path text = paths.round_questions(round);
    labelers::write_questions_text(text.replace_extension(".txt"), items, *context.tokenizer, pad_id(config));
    labelers::write_questions(paths.round_questions(round), items, /*with_best=*/false);
    throw WaitingForPerson{person_message(config, paths, round)};
  }
  auto labeler = labelers::make_labeler_reward(stage.labeler, context.runtime, pad_id(config), context.tokenizer);
  labelers::label_comparisons(items, *labeler, stage.labeler.noise, seed + 1, pad_id(config), context.runtime.device);

  fs::create_directories(paths.labels_dir());
  fs::path text = out;
  labelers::write_questions_text(text.replace_extension(".txt"), items, *context.tokenizer, pad_id(config));
  const data::AccuracyCeiling ceiling = data::accuracy_ceiling(items);
  nlohmann::ordered_json info = {{"questions", stats.questions},
                                 {"samples", stats.samples},
                                 {"draws", stats.draws},
                                 {"gave_up", stats.gave_up},
                                 {"labeler", labeler->name()},
                                 {"noise", stage.labeler.noise},
                                 {"tied_share", *ceiling.tied_share()},
                                 {"ceiling", *ceiling.ceiling}};
  spdlog::info(
      "labels: the labeler's top score is tied in {:.1f}% of the questions; a perfect reward model would be "
      "right on {:.3f} of them (chance {:.3f})",
      100.0 * *ceiling.tied_share(), *ceiling.ceiling, ceiling.chance);
  fs::path info_path = out;
  write_file_atomic(info_path.replace_extension(".info.json"),
                    info.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (round == 0) {
    write_file_atomic(paths.labels_dir() / "info.json",
                      info.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  // Written last: its presence marks the stage as done.
  labelers::write_questions(out, items, /*with_best=*/true);
  spdlog::info("labels: {} questions written to {} ({} draws for {} samples, {} without a truncate token)",
               stats.questions, out.string(), stats.draws, stats.samples, stats.gave_up);
}

// Every round's labels up to `round` in one file, the reward model's training set.
void write_training_labels(const TrainConfig& config, const StageContext& context, const RunPaths& paths, int round) {
  const fs::path out = paths.training_labels(round);
  if (round == 0 || fs::exists(out)) return;
  data::LabelOptions options;
  options.format = "openai";
  options.pad_id = pad_id(config);
  std::vector<data::Comparison> all;
  for (int r = 0; r <= round; ++r) {
    data::LabelSet set = data::read_labels(paths.round_labels(r), *context.tokenizer, options);
    all.insert(all.end(), set.items.begin(), set.items.end());
  }
  labelers::write_questions(out, all, /*with_best=*/true);
}

void run_reward_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths, int round) {
  const fs::path out = paths.round_reward_model(round);
  restore_interrupted_commit(out);
  if (fs::exists(out / "reward_model.json")) {
    spdlog::info("reward model: done ({}), skipping", out.string());
    return;
  }
  if (config.labels.source == "mock") write_training_labels(config, context, paths, round);
  spdlog::info("reward model: training into {}", out.string());
  compat::manual_seed(stage_seed(static_cast<std::uint64_t>(config.runtime.seed), kReward + 10 * round));
  reward::run_reward_training(reward_config(config, paths, round), context.runtime);
}

ppo::TrainPolicyConfig policy_config(const TrainConfig& config, const RunPaths& paths, const fs::path& reward_dir) {
  ppo::TrainPolicyConfig p;
  p.runtime = config.runtime;
  p.model = config.model;
  p.output_dir = paths.policy().string();
  p.task = config.task;
  p.reward.kind = "model";  // the stage replaces it with the labeler for policy.reward = labeler
  p.reward.model_dir = reward_dir.string();  // this round's: PPO's config.json names the model it used
  p.kl = config.policy.kl;
  p.ppo = config.policy.ppo;
  p.guards = config.policy.guards;
  p.save_interval = config.policy.save_interval;
  p.sample_interval = config.policy.sample_interval;
  p.num_samples = config.policy.num_samples;
  return p;
}

bool run_policy_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths,
                      std::int64_t max_batches, const fs::path& reward_dir, std::int64_t stop_batch) {
  const fs::path state = paths.policy() / "checkpoint" / "state.json";
  restore_interrupted_commit(state.parent_path());  // a kill mid-swap left the previous checkpoint aside
  const ppo::TrainPolicyConfig pc = policy_config(config, paths, reward_dir);
  if (fs::exists(state)) {
    const nlohmann::json s = read_json_file(state);
    if (s.value("next_batch", std::int64_t{-1}) >= stop_batch) {
      spdlog::info("policy: done ({} of {} PPO batches in {}), skipping", stop_batch, pc.ppo.num_batches(),
                   paths.policy().string());
      return true;
    }
  }
  ppo::PpoParts parts;
  parts.tokenizer = context.tokenizer;
  parts.queries = ppo::dataset_queries(context.queries);
  parts.policy = ppo::load_policy(config.model);
  parts.reference = model::load_gpt2(config.model);
  const int pad = pad_id(config);
  parts.reward = config.policy.reward == "labeler"
                     ? labelers::make_labeler_reward(config.labels.labeler, context.runtime, pad, context.tokenizer)
                     : ppo::load_reward_model_function(reward_dir.string(), context.runtime, pad);
  ppo::PpoTrainer trainer(pc, context.runtime, std::move(parts));
  if (fs::exists(state)) {
    trainer.resume();
  } else {
    spdlog::info("policy: PPO for {} batches of {} episodes into {}", trainer.num_batches(), pc.ppo.batch_size,
                 paths.policy().string());
  }
  std::int64_t budget = stop_batch - trainer.next_batch();
  if (max_batches >= 0) budget = std::min(budget, max_batches);
  trainer.run(budget);
  return trainer.next_batch() >= stop_batch;
}

nlohmann::ordered_json run_round_eval(const TrainConfig& config, const StageContext& context, const RunPaths& paths,
                                      int round) {
  const fs::path out = paths.eval_dir() / ("round_" + std::to_string(round) + ".json");
  if (fs::exists(out)) return nlohmann::ordered_json::parse(read_text_file(out));
  const int pad = pad_id(config);
  const auto& queries = *context.eval_queries;
  const std::vector<std::size_t> indices =
      eval::held_out_indices(queries, static_cast<std::size_t>(config.eval.queries));
  const fs::path rm_dir = paths.round_reward_model(round);
  auto reward = ppo::load_reward_model_function(rm_dir.string(), context.runtime, pad);
  std::unique_ptr<ppo::RewardFunction> labeler;
  std::vector<std::pair<std::string, ppo::RewardFunction*>> extra;
  if (config.labels.labeler.kind != "person") {
    labeler = labelers::make_labeler_reward(config.labels.labeler, context.runtime, pad, context.tokenizer);
    extra.emplace_back("labeler", labeler.get());
  }
  model::Gpt2 reference = model::load_inference_model(config.model, context.runtime);
  ppo::Policy policy = ppo::load_policy(paths.final_policy());
  policy->to(context.runtime.device);
  eval::EvalOptions options = eval_options(config);
  options.samples_shown = 0;
  const eval::PolicyEvaluation e =
      eval::evaluate_policy(*policy, *reference, *reward, extra, queries, indices, options, context.tokenizer.get());
  nlohmann::ordered_json j;
  j["round"] = round;
  const nlohmann::json rm = read_json_file(rm_dir / "reward_model.json");
  const nlohmann::json training = rm.value("training", nlohmann::json::object());  // as train-reward writes it
  j["labels"] = training.value("train_count", 0) + training.value("validation_count", 0);
  if (training.contains("validation_accuracy")) j["reward_model_validation_accuracy"] = training["validation_accuracy"];
  if (training.contains("validation_ceiling")) j["reward_model_validation_ceiling"] = training["validation_ceiling"];
  j["reward_model_train_accuracy"] = training.value("train_accuracy", 0.0);
  j["policy"] = e.to_json();
  fs::create_directories(paths.eval_dir());
  write_file_atomic(out, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  spdlog::info("round {}: reward model {}, score {:.3f}, labeler score {}, KL {:.3f}", round,
               reward::describe_accuracy(training, "validation"), e.score.mean,
               e.extra.empty() ? std::string("-") : std::to_string(e.extra[0].second.mean), e.kl.mean);
  return j;
}

nlohmann::ordered_json run_eval_stage(const TrainConfig& config, const StageContext& context, const RunPaths& paths) {
  nlohmann::ordered_json summary;
  summary["run_dir"] = paths.root.string();
  summary["model"] = config.model;
  summary["final_policy"] = paths.final_policy().string();
  summary["reward"] = config.policy.reward == "labeler"
                          ? "labeler (" + config.labels.labeler.kind + ")"
                          : "reward model (" + paths.round_reward_model(config.labels.rounds - 1).string() + ")";
  summary["kl"] = {{"adaptive", config.policy.kl.adaptive},
                   {"target", config.policy.kl.target},
                   {"initial_kl_coef", config.policy.kl.kl_coef}};
  summary["ppo"] = recent_ppo_metrics(paths.policy() / "metrics.jsonl", 10);
  if (config.policy.reward == "reward_model") {
    const nlohmann::json rm = read_json_file(paths.round_reward_model(config.labels.rounds - 1) / "reward_model.json");
    if (rm.contains("training")) summary["reward_model"] = rm["training"];
  }
  if (fs::exists(paths.labels_dir() / "info.json"))
    summary["labels"] = read_json_file(paths.labels_dir() / "info.json");
  if (!config.eval.enabled) return summary;

  const int pad = pad_id(config);
  const auto& queries = *context.eval_queries;
  const std::vector<std::size_t> indices =
      eval::held_out_indices(queries, static_cast<std::size_t>(config.eval.queries));
  const std::size_t n = indices.size();

  std::unique_ptr<ppo::RewardFunction> reward =
      config.policy.reward == "labeler"
          ? labelers::make_labeler_reward(config.labels.labeler, context.runtime, pad, context.tokenizer)
          : ppo::load_reward_model_function(paths.round_reward_model(config.labels.rounds - 1).string(),
                                            context.runtime, pad);
  std::unique_ptr<ppo::RewardFunction> labeler;
  std::vector<std::pair<std::string, ppo::RewardFunction*>> extra;
  if (config.eval.use_labeler && config.labels.source == "mock" && config.policy.reward == "reward_model" &&
      config.labels.labeler.kind != "person") {
    labeler = labelers::make_labeler_reward(config.labels.labeler, context.runtime, pad, context.tokenizer);
    extra.emplace_back("labeler", labeler.get());
  }
  model::Gpt2 reference{nullptr};
  const eval::EvalOptions options = eval_options(config);
  auto evaluate = [&](const char* name, const fs::path& policy_dir) -> nlohmann::ordered_json {
    const fs::path out = paths.eval_dir() / (std::string(name) + ".json");
    if (fs::exists(out)) return nlohmann::ordered_json::parse(read_text_file(out));
    if (!reference) reference = model::load_inference_model(config.model, context.runtime);
    ppo::Policy policy = ppo::load_policy(policy_dir);
    policy->to(context.runtime.device);
    spdlog::info("eval: {} policy on {} queries", name, n);
    nlohmann::ordered_json j =
        eval::evaluate_policy(*policy, *reference, *reward, extra, queries, indices, options, context.tokenizer.get())
            .to_json();
    fs::create_directories(paths.eval_dir());
    // Sample texts may hold a token cut mid-character: invalid UTF-8 becomes U+FFFD.
    write_file_atomic(out, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    return j;
  };
  summary["eval_queries"] = n;
  summary["initial"] = evaluate("initial", config.model);
  summary["final"] = evaluate("final", paths.final_policy());
  return summary;
}

}  // namespace rlhf::pipeline
