// rlhf eval: policies measured side by side on the same held-out queries (include/rlhf/eval/evaluate.h);
// --run RUN_DIR takes every setting from an `rlhf train` run, and any flag or --set changes one.
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/eval/evaluate.h"
#include "rlhf/pipeline/evaluate_run.h"

namespace rlhf::cli {
namespace {

struct EvalArgs {
  ConfigLayers layers;
  std::string run_dir;
  std::vector<std::string> policies;
  std::vector<std::string> names;
  bool json_to_stdout = false;
};

// Defaults (or the run's settings) < --config FILE < --set < flags.
eval::EvaluateConfig resolve(const EvalArgs& args) {
  eval::EvaluateConfig config = args.run_dir.empty() ? eval::EvaluateConfig{}
                                                     : pipeline::evaluate_config_from_run(args.run_dir);
  if (!args.layers.file.empty()) config::read_config_file(config, args.layers.file);
  for (const auto& item : args.layers.sets) config::apply_override(config, item, "--set");
  std::vector<std::string> flags = args.layers.flags;
  // Policies given on the command line replace the run's (and their names go with them).
  if (!args.policies.empty()) {
    flags.push_back("policies=" + nlohmann::json(args.policies).dump());
    flags.push_back("names=" + nlohmann::json(args.names).dump());
  } else if (!args.names.empty()) {
    flags.push_back("names=" + nlohmann::json(args.names).dump());
  }
  for (const auto& item : flags) config::apply_override(config, item, "command line");
  config::validate_config(config);
  return config;
}

void run_eval(const EvalArgs& args) {
  const eval::EvaluateConfig config = resolve(args);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  const nlohmann::ordered_json result = eval::evaluate_policies(config, runtime);
  if (args.json_to_stdout) {
    std::cout << result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << eval::format_evaluation(result) << std::flush;
  }
}

}  // namespace

void register_eval(CLI::App& app) {
  register_config_doc<eval::EvaluateConfig>("eval");
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Measure policies on held-out queries: score, KL, labeler, entropy, length, ROUGE, copying");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  cmd->add_option("--run", args->run_dir,
                  "An `rlhf train` run directory: its settings, reward model, and initial and final policies");
  cmd->add_option("--policy,-p", args->policies, "A policy directory to evaluate (repeat for several)");
  cmd->add_option("--name", args->names, "A display name per --policy, in order");
  add_key_flag(*cmd, "--reference", "reference", args->layers, "Reference policy for the KL (default: the first)");
  add_key_flag(*cmd, "--reward-model", "reward_model", args->layers, "Reward model directory");
  cmd->add_option_function<std::string>(
      "--labeler",
      [args](const std::string& kind) {
        args->layers.flags.push_back("use_labeler=true");
        args->layers.flags.push_back("labeler.kind=" + kind);
      },
      "Also score with a mock labeler: lexicon, reward_model or token_count");
  add_key_flag(*cmd, "--lexicon", "labeler.lexicon", args->layers, "Lexicon file (labeler lexicon)");
  add_key_flag(*cmd, "--queries", "task.queries.path", args->layers, "Query dataset");
  add_key_flag(*cmd, "--num-queries,-n", "queries", args->layers, "Queries evaluated (the last of the shuffled order)");
  add_key_flag(*cmd, "--output,-o", "output", args->layers, "JSON file with every number");
  cmd->add_flag("--json", args->json_to_stdout, "Print the JSON instead of the table");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace rlhf::cli
