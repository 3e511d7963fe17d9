// rlhf report: one self-contained HTML page (tables and SVG charts) about run directories of
// `rlhf train`, `rlhf train-policy` and `rlhf train-reward`, several runs overlaid.
#include "common.h"
#include "rlhf/eval/report_html.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct ReportConfig {
  core::RuntimeConfig runtime;
  eval::ReportOptions report;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Logging (nothing else is used)");
    report.visit(v);
  }
};

struct ReportArgs {
  ConfigLayers layers;
  std::vector<std::string> dirs;
  std::string output;
};

void run_report(const ReportArgs& args) {
  const auto config = resolve_config<ReportConfig>(args.layers);
  core::init_runtime(config.runtime);
  log_config(config);
  std::vector<eval::RunReport> runs;
  for (const auto& dir : args.dirs) runs.push_back(eval::load_run(dir));
  eval::name_runs(runs);
  for (const auto& run : runs) {
    for (const auto& m : run.missing) spdlog::info("{}: {}", run.dir.string(), m);
  }
  const std::filesystem::path output = args.output;
  if (args.output != "-" && output.has_parent_path()) std::filesystem::create_directories(output.parent_path());
  write_output(args.output, eval::render_report(runs, config.report));
  if (args.output != "-") spdlog::info("report of {} run(s) written to {}", runs.size(), args.output);
}

}  // namespace

void register_report(CLI::App& app) {
  register_config_doc<ReportConfig>("report");
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "An HTML page with charts and tables of run directories (rlhf train, train-policy, train-reward)");
  add_config_options(*cmd, args->layers);
  add_key_flag(*cmd, "--log-level", "runtime.log_level", args->layers, "trace, debug, info, warn, error, off");
  cmd->add_option("run_dirs", args->dirs, "Run directories, shown overlaid in this order")->required();
  cmd->add_option("--output,-o", args->output, "The HTML file to write (- = stdout)")->required();
  add_key_flag(*cmd, "--title", "title", args->layers, "Heading of the page");
  add_key_flag(*cmd, "--samples", "samples", args->layers, "Sample texts shown per policy");
  cmd->callback([args] { run_report(*args); });
}

}  // namespace rlhf::cli
