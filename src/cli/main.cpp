// `rlhf`: fine-tuning GPT-2 from human preferences. The subcommands live in cmd_*.cpp; all logic is
// in the library. Errors are caught here, once, and printed on one line.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "common.h"
#include "rlhf/util/error.h"

int main(int argc, char** argv) {
  CLI::App app{"rlhf: fine-tune GPT-2 from human preferences (Ziegler et al. 2019)", "rlhf"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rlhf 0.1.0");
  rlhf::cli::register_train(app);
  rlhf::cli::register_generate(app);
  rlhf::cli::register_tokenize(app);
  rlhf::cli::register_logprobs(app);
  rlhf::cli::register_bench(app);
  rlhf::cli::register_train_reward(app);
  rlhf::cli::register_score(app);
  rlhf::cli::register_train_policy(app);
  rlhf::cli::register_sft(app);
  rlhf::cli::register_sample_for_labels(app);
  rlhf::cli::register_mock_label(app);
  rlhf::cli::register_agreement(app);
  rlhf::cli::register_label(app);
  rlhf::cli::register_compare(app);
  rlhf::cli::register_eval(app);
  rlhf::cli::register_report(app);
  rlhf::cli::register_rouge(app);
  rlhf::cli::register_config_docs(app);
  // Logs go to stderr so that JSON written to stdout stays parseable.
  spdlog::set_default_logger(spdlog::stderr_color_mt("rlhf"));
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rlhf::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
