// rlhf compare: head-to-head comparison of two policies (paper-spec 6). Both continue the same
// held-out queries; an automatic judge (a mock labeler) says which is better, and the questions can be
// exported for people (2- or 4-way, shuffled, with a key), whose answers `rlhf compare --answers
// LABELS --key KEY` counts.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/data/labels.h"
#include "rlhf/data/queries.h"
#include "rlhf/eval/compare.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/labelers/questions.h"
#include "rlhf/model/gpt2_config.h"
#include "rlhf/ppo/config.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct CompareConfig {
  core::RuntimeConfig runtime;
  std::string policy_a, policy_b;  // model directories (a PPO policy's value head is ignored)
  std::string task_config;         // an rlhf train / train-policy configuration whose `task` section is used
  ppo::TaskOptions task;           // queries, response length, temperature, truncation, penalty
  int num_queries = 256;           // the last ones of the dataset's order (held out, as rlhf train's eval)
  int samples_per_query = 0;       // responses of each policy per query; 0 = 1, or 2 for 4-way export
  int batch_size = 64;             // rows sampled and judged together
  bool apply_penalty = true;       // a response without a truncate token scores task.penalty_reward_value
  labelers::LabelerOptions judge;  // the automatic judge; kind person = none (export only)
  std::string tokenizer;           // "" = policy_a's directory (answers: the key's policy_a)
  int samples_shown = 3;           // sample texts in the JSON
  std::string json;                // result file (JSON); "" = the table only
  std::string export_questions;    // questions for people (OpenAI schema), with .txt and .key.json beside it
  int way = 4;                     // samples per exported question: 2 (one of each) or 4 (two of each)
  std::string answers;             // people's answers to exported questions (labels with best)
  std::string key;                 // the key written with those questions

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed (of sampling and of the question order), logging, precision");
    v.field("policy_a", policy_a, "Policy A: a model directory (a PPO checkpoint/policy, a GPT-2)");
    v.field("policy_b", policy_b, "Policy B: a model directory");
    v.field("task_config", task_config,
            "A configuration file of rlhf train or train-policy whose `task` section is used (applied before the "
            "--config file, --set and flags)");
    v.section("task", task, "Queries, response length, temperature, truncation and penalty (as train-policy's task)");
    v.field("num_queries", num_queries,
            "Queries compared: the last ones of the dataset's (shuffled) order, as rlhf train's evaluation",
            config::Range::at_least(1));
    v.field("samples_per_query", samples_per_query,
            "Responses of each policy per query (A's k-th is judged against B's k-th); 0 = 1, or 2 when exporting "
            "4-way questions",
            config::Range::at_least(0));
    v.field("batch_size", batch_size, "Rows sampled and judged together", config::Range::at_least(1));
    v.field("apply_penalty", apply_penalty,
            "The judge's score of a response without a truncate token is task.penalty_reward_value (as PPO)");
    v.section("judge", judge,
              "The automatic judge (a mock labeler's score); kind person = no automatic judge (use export)");
    v.field("tokenizer", tokenizer, "Directory with the tokenizer files; empty = policy A's directory");
    v.field("samples_shown", samples_shown, "Sample texts (query, A, B) kept in the JSON", config::Range::at_least(0));
    v.field("json", json, "Write the result as JSON to this file (atomically)");
    v.field("export", export_questions,
            "Write questions for people here (OpenAI label schema without best; rlhf label answers them), with a "
            ".txt rendering and the key FILE.key.json beside it");
    v.field("way", way, "Samples per exported question: 2 (one per policy) or 4 (two per policy, the paper's)",
            config::Range::between(2, 4));
    v.field("answers", answers,
            "People's answers to exported questions (the label file of rlhf label); needs key; no sampling");
    v.field("key", key, "The key file written beside the exported questions (QUESTIONS.key.json)");
  }
  void check() const {
    if (way != 2 && way != 4) throw Error("way: " + std::to_string(way) + "; expected 2 or 4");
  }
};

struct CompareArgs {
  ConfigLayers layers;
  std::vector<std::string> policies;
};

// A configuration holding just the task section of a train / train-policy file.
struct TaskOnly {
  ppo::TaskOptions task;
  template <class V>
  void visit(V& v) {
    v.section("task", task, "");
  }
};

ppo::TaskOptions read_task_section(const std::string& path) {
  const nlohmann::json j = config::detail::parse_json_text(read_text_file(path), path);
  if (!j.is_object() || !j.contains("task")) {
    throw_file_error(path, "no \"task\" section (give a configuration of rlhf train or train-policy)");
  }
  TaskOnly only;
  config::apply_json(only, nlohmann::json{{"task", j.at("task")}}, path);
  return only.task;
}

// defaults < task_config's task section < --config < --set < flags.
CompareConfig resolve(const ConfigLayers& layers) {
  const auto plain = resolve_config<CompareConfig>(layers);
  if (plain.task_config.empty()) return plain;
  CompareConfig config;
  config.task = read_task_section(plain.task_config);
  if (!layers.file.empty()) config::read_config_file(config, layers.file);
  for (const auto& item : layers.sets) config::apply_override(config, item, "--set");
  for (const auto& item : layers.flags) config::apply_override(config, item, "command line");
  config::validate_config(config);
  return config;
}

std::string percent(double x) {
  return fmt::format("{:.1f}%", 100 * x);
}

// The win-rate rows of the table (labels 18 columns wide).
std::string win_lines(const eval::WinRate& w) {
  return fmt::format(
      "{:<18}{}  ({} wins, {} ties, {} losses of {}; a tie counts half)\n"
      "{:<18}{}\n{:<18}{} - {} (Wilson)\n",
      "win rate of A", percent(w.rate), w.wins, w.ties, w.losses, w.compared(), "  standard error", percent(w.stderr_),
      "  95% interval", percent(w.ci_low), percent(w.ci_high));
}

void write_json(const std::string& path, const nlohmann::ordered_json& j) {
  write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

// ---- People's answers ----

void run_people(const CompareConfig& config) {
  if (config.answers.empty() || config.key.empty()) {
    throw Error("answers, key: counting people's answers needs both (--answers LABELS --key QUESTIONS.key.json)");
  }
  if (!config.policy_a.empty() || !config.policy_b.empty()) {
    throw Error("policy_a, policy_b: with --answers the policies come from the key; give no policies");
  }
  const eval::ComparisonKey key = eval::read_key(config.key);
  if (config.tokenizer.empty() && !std::filesystem::is_directory(key.policy_a)) {
    throw Error("tokenizer: " + config.key + " names policy A " + key.policy_a +
                ", which is not here; give its tokenizer directory with --tokenizer DIR");
  }
  const auto tokenizer = tokenizer::load_tokenizer(config.tokenizer.empty() ? key.policy_a : config.tokenizer);
  data::LabelOptions options;
  options.pad_id = key.pad_id;
  const data::LabelSet set = data::read_labels(config.answers, *tokenizer, options);
  const eval::PeopleVerdict v = eval::tally_answers(key, set.items, config.answers, config.key);
  fmt::print("{:<18}{}\n{:<18}{}\n{:<18}people ({}), {} of {} {}-way questions answered\n{}", "policy A", key.policy_a,
             "policy B", key.policy_b, "judge", config.answers, v.answered, v.questions, key.way, win_lines(v.win));
  if (config.json.empty()) return;
  nlohmann::ordered_json j;
  j["policy_a"] = key.policy_a;
  j["policy_b"] = key.policy_b;
  j["judge"] = {{"kind", "people"}, {"answers", config.answers}, {"key", config.key}, {"way", key.way}};
  j.update(v.to_json());
  write_json(config.json, j);
}

// ---- Sampling and the automatic judge ----

// The held-out queries (eval::held_out_indices), with a warning when the dataset has fewer than asked.
std::vector<std::size_t> held_out(const data::QueryDataset& dataset, std::size_t count) {
  if (dataset.size() < count) {
    spdlog::warn("{} queries asked for, the dataset has {}: comparing on all", count, dataset.size());
  }
  return eval::held_out_indices(dataset, count);
}

eval::CompareOptions compare_options(const CompareConfig& c, const core::Runtime& runtime) {
  eval::CompareOptions o;
  o.response_length = c.task.response_length;
  o.temperature = c.task.temperature;
  o.truncation = {c.task.truncate_token, c.task.truncate_after, c.task.queries.pad_id, c.task.penalty_reward_value};
  o.apply_penalty = c.apply_penalty;
  o.batch_size = c.batch_size;
  o.samples_per_query = c.samples_per_query > 0 ? c.samples_per_query : c.export_questions.empty() ? 1 : c.way / 2;
  o.seed = runtime.seed;
  return o;
}

void check_judge_config(const CompareConfig& c) {
  if (c.policy_a.empty() || c.policy_b.empty())
    throw Error("policy_a, policy_b: give the two policies (rlhf compare A B)");
  if (c.task.queries.path.empty()) {
    throw Error("task.queries.path: no query file given (--queries FILE, or --task-config a train configuration)");
  }
  if (c.judge.kind == "person" && c.export_questions.empty()) {
    throw Error("judge.kind: person has no automatic judge; export questions for people with --export FILE");
  }
  if (c.judge.noise != 0.0) throw Error("judge.noise: a judge scores responses; noise applies to labeling only");
  const int needed = c.export_questions.empty() ? 1 : c.way / 2;
  if (c.samples_per_query > 0 && c.samples_per_query < needed) {
    throw Error(fmt::format("samples_per_query: {}, but {}-way questions need {} samples of each policy per query",
                            c.samples_per_query, c.way, needed));
  }
}

eval::PolicyResponses sample_policy(const std::string& dir, const data::QueryDataset& dataset,
                                    const std::vector<std::size_t>& indices, const eval::CompareOptions& options,
                                    const core::Runtime& runtime, const std::string& key) {
  model::Gpt2 policy = load_inference_model(dir, runtime);
  const int needed = static_cast<int>(dataset.context(0).size()) + options.response_length;
  if (needed > policy->config().n_positions) {
    throw Error(
        fmt::format("{}: {}: queries of {} tokens (prefix and suffix included) plus task.response_length {} "
                    "exceed the model's context of {}",
                    key, dir, dataset.context(0).size(), options.response_length, policy->config().n_positions));
  }
  spdlog::info("sampling {} ({}) on {} queries x {}", key, dir, indices.size(), options.samples_per_query);
  return eval::sample_responses(*policy, dataset, indices, options);
}

nlohmann::ordered_json sample_texts(const eval::PolicyResponses& a, const eval::PolicyResponses& b,
                                    const std::vector<double>& score_a, const std::vector<double>& score_b, int count,
                                    const tokenizer::Tokenizer& tokenizer, int pad_id) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::size_t r = 0; r < score_a.size() && static_cast<int>(out.size()) < count; ++r) {
    out.push_back({{"query", eval::query_text(a, r, tokenizer, pad_id)},
                   {"a", eval::response_text(a, r, tokenizer, pad_id)},
                   {"b", eval::response_text(b, r, tokenizer, pad_id)},
                   {"score_a", score_a[r]},
                   {"score_b", score_b[r]}});
  }
  return out;
}

void print_verdict(const CompareConfig& c, const std::string& judge, const eval::JudgeVerdict& v) {
  fmt::print("{:<18}{}\n{:<18}{}\n{:<18}{}, {} queries x {} sample(s) per policy\n", "policy A", c.policy_a, "policy B",
             c.policy_b, "judge", judge, v.queries, v.samples_per_query);
  fmt::print("{:<18}{:>12} {:>12}\n", "", "A", "B");
  fmt::print("{:<18}{:>12.4f} {:>12.4f}\n", "mean score", v.score_a.mean, v.score_b.mean);
  fmt::print("{:<18}{:>12.4f} {:>12.4f}\n", "  std", v.score_a.std, v.score_b.std);
  fmt::print("{:<18}{:.4f} (standard error {:.4f}, paired per query)\n", "score A - B", v.difference.mean,
             v.difference.stderr_mean);
  fmt::print("{}", win_lines(v.win));
}

void check_same_vocabulary(const CompareConfig& c) {
  const int vocab_a = model::load_gpt2_config(std::filesystem::path(c.policy_a) / "config.json").vocab_size;
  const int vocab_b = model::load_gpt2_config(std::filesystem::path(c.policy_b) / "config.json").vocab_size;
  if (vocab_a != vocab_b) {
    throw Error(
        fmt::format("policy_b: {} has a vocabulary of {} tokens, policy A's {}; compare policies that share "
                    "a tokenizer",
                    c.policy_b, vocab_b, vocab_a));
  }
}

// Scores both policies' responses, prints the table and returns the JSON of the verdict.
nlohmann::ordered_json judge_and_report(const CompareConfig& config, ppo::RewardFunction& judge,
                                        const eval::PolicyResponses& a, const eval::PolicyResponses& b,
                                        const eval::CompareOptions& options, const core::Runtime& runtime,
                                        const tokenizer::Tokenizer& tokenizer) {
  const std::vector<double> score_a = eval::judge_responses(judge, a, options, runtime.device);
  const std::vector<double> score_b = eval::judge_responses(judge, b, options, runtime.device);
  const eval::JudgeVerdict v =
      eval::judge_scores(score_a, score_b, static_cast<std::size_t>(options.samples_per_query));
  print_verdict(config, judge.name(), v);
  nlohmann::ordered_json j;
  j["judge"] = {{"kind", config.judge.kind}, {"name", judge.name()}, {"apply_penalty", options.apply_penalty}};
  j.update(v.to_json());
  j["samples"] = sample_texts(a, b, score_a, score_b, config.samples_shown, tokenizer, options.truncation.pad_id);
  return j;
}

// Writes the questions, their text and the key; prints how to answer them; returns their JSON entry.
nlohmann::ordered_json export_for_people(const CompareConfig& config, const eval::PolicyResponses& a,
                                         const eval::PolicyResponses& b, const eval::CompareOptions& options,
                                         const tokenizer::Tokenizer& tokenizer) {
  const int pad = options.truncation.pad_id;
  eval::ComparisonKey key = eval::make_comparison_questions(a, b, static_cast<std::size_t>(options.samples_per_query),
                                                            config.way, options.seed, pad);
  key.policy_a = config.policy_a;
  key.policy_b = config.policy_b;
  eval::export_questions(config.export_questions, key, tokenizer);
  const std::string key_file = eval::key_path(config.export_questions).string();
  const std::string pad_flag = pad == data::kOpenAiPad ? "" : fmt::format(" --pad-id {}", pad);
  fmt::print(
      "exported {} {}-way questions to {} (key {}); answer them with\n  rlhf label --model {} --in {}{} -o "
      "ANSWERS.json\nthen count with\n  rlhf compare --answers ANSWERS.json --key {}\n",
      key.questions.size(), config.way, config.export_questions, key_file, config.policy_a, config.export_questions,
      pad_flag, key_file);
  return {{"questions", config.export_questions},
          {"text", labelers::text_rendering_path(config.export_questions).string()},
          {"key", key_file},
          {"way", config.way}};
}

void run_judge(const CompareConfig& config, const core::Runtime& runtime) {
  check_judge_config(config);
  check_same_vocabulary(config);
  const std::shared_ptr<const tokenizer::Tokenizer> tokenizer =
      tokenizer::load_tokenizer(config.tokenizer.empty() ? config.policy_a : config.tokenizer);
  const data::QueryDataset dataset = data::QueryDataset::load(config.task.queries, *tokenizer);
  const std::vector<std::size_t> indices = held_out(dataset, static_cast<std::size_t>(config.num_queries));
  const eval::CompareOptions options = compare_options(config, runtime);
  std::unique_ptr<ppo::RewardFunction> judge;  // made first: a bad judge fails before any sampling
  if (config.judge.kind != "person") {
    judge = labelers::make_labeler_reward(config.judge, runtime, options.truncation.pad_id, tokenizer);
  }
  const eval::PolicyResponses a = sample_policy(config.policy_a, dataset, indices, options, runtime, "policy_a");
  const eval::PolicyResponses b = sample_policy(config.policy_b, dataset, indices, options, runtime, "policy_b");

  nlohmann::ordered_json j;
  j["policy_a"] = config.policy_a;
  j["policy_b"] = config.policy_b;
  j["query_file"] = config.task.queries.path;
  j["queries"] = indices.size();  // the last ones of the dataset's order (held out, as rlhf train's eval)
  j["seed"] = options.seed;
  j["task"] = config::to_json(config.task);
  j["task"].erase("queries");
  if (judge) {
    j.update(judge_and_report(config, *judge, a, b, options, runtime, *tokenizer));
  } else {
    j["judge"] = {{"kind", "person"}, {"name", "none (questions exported for people)"}};
  }
  if (!config.export_questions.empty()) j["export"] = export_for_people(config, a, b, options, *tokenizer);
  if (!config.json.empty()) write_json(config.json, j);
}

void run_compare(CompareArgs& args) {
  if (!args.policies.empty()) {
    if (args.policies.size() != 2) throw Error("give two policies, A and B (rlhf compare A B)");
    args.layers.flags.push_back("policy_a=" + args.policies[0]);
    args.layers.flags.push_back("policy_b=" + args.policies[1]);
  }
  const CompareConfig config = resolve(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  if (!config.answers.empty() || !config.key.empty()) {
    run_people(config);
  } else {
    run_judge(config, runtime);
  }
  save_config_next_to(config.json, config);
}

}  // namespace

void register_compare(CLI::App& app) {
  register_config_doc<CompareConfig>("compare");
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Head-to-head comparison of two policies: win rate under a judge, or questions for people");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  cmd->add_option("policies", args->policies, "Policy A and policy B (model directories)")->expected(0, 2);
  add_key_flag(*cmd, "--task-config", "task_config", args->layers, "rlhf train / train-policy configuration (task)");
  add_key_flag(*cmd, "--queries", "task.queries.path", args->layers, "Query file");
  add_key_flag(*cmd, "-n,--num-queries", "num_queries", args->layers, "Queries compared (the last of the order)");
  add_key_flag(*cmd, "--samples-per-query", "samples_per_query", args->layers, "Responses per policy per query");
  add_key_flag(*cmd, "--temperature", "task.temperature", args->layers, "Sampling temperature");
  add_key_flag(*cmd, "--response-length", "task.response_length", args->layers, "Tokens per response");
  add_key_flag(*cmd, "--judge", "judge.kind", args->layers, "lexicon, reward_model, token_count or person (none)");
  add_key_flag(*cmd, "--lexicon", "judge.lexicon", args->layers, "Lexicon file (judge lexicon)");
  add_key_flag(*cmd, "--reward-model", "judge.model_dir", args->layers, "Reward-model directory (judge reward_model)");
  add_key_flag(*cmd, "--token", "judge.token", args->layers, "Counted token id (judge token_count)");
  add_key_flag(*cmd, "--tokenizer", "tokenizer", args->layers, "Directory with the tokenizer files");
  add_key_flag(*cmd, "--json", "json", args->layers, "Write the result as JSON to this file");
  add_key_flag(*cmd, "--export", "export", args->layers, "Write questions for people to this file");
  add_key_flag(*cmd, "--way", "way", args->layers, "2 or 4 samples per exported question");
  add_key_flag(*cmd, "--answers", "answers", args->layers, "People's answers (label file of rlhf label)");
  add_key_flag(*cmd, "--key", "key", args->layers, "Key file of the exported questions");
  cmd->callback([args] { run_compare(*args); });
}

}  // namespace rlhf::cli
