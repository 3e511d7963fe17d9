// rlhf rouge: ROUGE-1/2/L of summaries against references (rouge_score's definition), or of the lead-3
// baseline, with standard errors and the paper's copying statistics. The logic is in rlhf::metrics.
#include <fmt/format.h>

#include "common.h"
#include "rlhf/metrics/summary_eval.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct RougeConfig {
  core::RuntimeConfig runtime;  // only logging applies
  metrics::SummaryEvalOptions rouge;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Logging (nothing else is used)");
    v.section("rouge", rouge, "What is scored and how");
  }
};

struct RougeArgs {
  ConfigLayers layers;
  std::string input;
  std::string json;
};

void run_rouge(const RougeArgs& args) {
  const auto config = resolve_config<RougeConfig>(args.layers);
  core::init_runtime(config.runtime);
  log_config(config);
  const bool lead3 = config.rouge.lead3;
  const auto records = metrics::read_summary_records(args.input, /*need_prediction=*/!lead3, /*need_source=*/lead3);
  const metrics::SummaryEvaluation evaluation = metrics::evaluate_summaries(records, config.rouge);
  fmt::print("{}", metrics::format_table(evaluation, config.rouge));
  if (!args.json.empty()) {
    auto j = metrics::to_json(evaluation, config.rouge);
    j["input"] = args.input;
    write_output(args.json, j.dump(2) + "\n");
    save_config_next_to(args.json, config);
  }
}

}  // namespace

void register_rouge(CLI::App& app) {
  register_config_doc<RougeConfig>("rouge");
  auto args = std::make_shared<RougeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "rouge", "ROUGE-1/2/L (rouge_score's definition) of summaries in a JSON Lines file, with copying statistics");
  add_config_options(*cmd, args->layers);
  add_key_flag(*cmd, "--log-level", "runtime.log_level", args->layers, "trace, debug, info, warn, error, off");
  cmd->add_option("input", args->input,
                  "JSON Lines file: one {\"prediction\", \"reference\", \"source\" (optional)} object per line")
      ->required();
  auto& layers = args->layers;
  CLI::Option* stem = cmd->add_flag_callback(
      "--stem", [&layers] { layers.flags.push_back("rouge.stem=true"); }, "Porter-stem tokens (default) [rouge.stem]");
  CLI::Option* no_stem = cmd->add_flag_callback(
      "--no-stem", [&layers] { layers.flags.push_back("rouge.stem=false"); }, "Compare tokens unstemmed [rouge.stem]");
  stem->excludes(no_stem);
  add_bool_flag(*cmd, "--lead3", "rouge.lead3", args->layers,
                "Score the lead-3 baseline (first 3 sentences of \"source\") instead of \"prediction\"");
  add_key_flag(*cmd, "--bootstrap", "rouge.bootstrap_samples", args->layers, "Bootstrap resamples (0 = no interval)");
  cmd->add_option("--json", args->json, "Also write means, standard errors, copying statistics and per-line scores here");
  cmd->callback([args] { run_rouge(*args); });
}

}  // namespace rlhf::cli
