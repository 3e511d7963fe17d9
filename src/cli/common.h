// What every subcommand shares: configuration layers (defaults < --config FILE < --set k=v < flags),
// the runtime options, and loading a model for inference.
#pragma once

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rlhf/config/config.h"
#include "rlhf/core/runtime.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/model/inference.h"

namespace rlhf::cli {

// The sources of a command's configuration, in increasing precedence.
struct ConfigLayers {
  std::string file;                 // --config FILE
  std::vector<std::string> sets;    // --set section.key=value, in order
  std::vector<std::string> flags;   // dedicated flags, turned into the same key=value form
};

// --config and --set.
void add_config_options(CLI::App& cmd, ConfigLayers& layers);

// A flag that sets one configuration key (its value is checked by the configuration code, so a bad
// value gets the same message as in a file).
void add_key_flag(CLI::App& cmd, const std::string& flag, const std::string& key, ConfigLayers& layers,
                  const std::string& help);
void add_bool_flag(CLI::App& cmd, const std::string& flag, const std::string& key, ConfigLayers& layers,
                   const std::string& help);

// --device, --threads, --seed, --log-level, --precision, writing into the `runtime` section.
void add_runtime_flags(CLI::App& cmd, ConfigLayers& layers);

// Builds the configuration from its layers.
template <class Config>
Config resolve_config(const ConfigLayers& layers) {
  Config config;
  if (!layers.file.empty()) config::read_config_file(config, layers.file);
  for (const auto& item : layers.sets) config::apply_override(config, item, "--set");
  for (const auto& item : layers.flags) config::apply_override(config, item, "command line");
  config::validate_config(config);
  return config;
}

// Logs the resolved configuration (so every run's console shows what it used).
template <class Config>
void log_config(const Config& config) {
  spdlog::info("configuration: {}", config::to_json(config).dump());
}

// Saves the resolved configuration as <output>.config.json next to an output file (not for stdout).
template <class Config>
void save_config_next_to(const std::string& output, const Config& config) {
  if (!output.empty() && output != "-") config::save_resolved_config(config, output + ".config.json");
}

// The configuration reference (docs/configuration.md) is generated from the structs themselves, so it
// cannot drift: each subcommand registers its struct's description here.
void register_config_doc(const std::string& command, std::function<std::string()> describe);
template <class Config>
void register_config_doc(const std::string& command) {
  register_config_doc(command, [command] { return config::describe_markdown(Config{}, "rlhf " + command); });
}
// All registered descriptions, in registration order, as one Markdown document.
std::string config_reference();

// Refuses to replace a finished output (`dir/marker` exists, e.g. reward_model.json) unless `overwrite`:
// Error "output: DIR already holds WHAT; add --overwrite to replace it".
void refuse_finished_output(const std::string& dir, const std::string& marker, const std::string& what,
                            bool overwrite);

// Inference models (reference policy, sampling, scoring) live in the library.
using model::load_inference_model;
using model::place_for_inference;

// Registration of each subcommand (one file each).
void register_generate(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_logprobs(CLI::App& app);
void register_bench(CLI::App& app);
void register_train_reward(CLI::App& app);
void register_score(CLI::App& app);
void register_train_policy(CLI::App& app);
void register_sft(CLI::App& app);
void register_train(CLI::App& app);
void register_sample_for_labels(CLI::App& app);
void register_mock_label(CLI::App& app);
void register_agreement(CLI::App& app);
void register_label(CLI::App& app);
void register_compare(CLI::App& app);
void register_eval(CLI::App& app);
void register_report(CLI::App& app);
void register_rouge(CLI::App& app);
void register_config_docs(CLI::App& app);

}  // namespace rlhf::cli
