// Typed configuration: plain structs with documented defaults that describe themselves to a visitor,
// read from JSON files, overridden by `--set section.key=value`, validated, printed and saved.
//
//   struct SamplingOptions {
//     double temperature = 1.0;  // logits are divided by it
//     int top_k = 0;             // 0 = all
//     template <class V>
//     void visit(V& v) {
//       v.field("temperature", temperature, "Logits are divided by it", config::Range::at_least(0.0));
//       v.field("top_k", top_k, "Sample among the k most likely tokens; 0 = all", config::Range::at_least(0));
//     }
//     void check() const;  // optional: cross-field rules, throws rlhf::Error
//   };
//   struct GenerateConfig {
//     SamplingOptions sampling;
//     std::string size = "124M";
//     template <class V>
//     void visit(V& v) {
//       v.section("sampling", sampling, "How continuations are drawn");
//       v.field("size", size, "GPT-2 size", config::OneOf{{"124M", "355M"}});
//     }
//   };
//
// Field types: bool, int, std::int64_t, std::uint64_t, float, double, std::string, std::optional of
// those (JSON null or an absent key = not set), and std::vector of std::string, int, double or
// std::int64_t. Sections nest to any depth. Precedence: defaults, then the file, then each --set.
// Every error is an rlhf::Error whose one-line message names the source, the key path and the value.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/config/constraints.h"
#include "rlhf/config/visitors.h"
#include "rlhf/util/files.h"

namespace rlhf::config {

namespace detail {
// Writes j.dump(2) and a newline with write_file_atomic.
void write_config_text(const std::filesystem::path& path, const nlohmann::ordered_json& j);
}  // namespace detail

// Every key path of the configuration, sections included, in declaration order
// ("runtime", "runtime.device", ..., "batch_size").
template <class C>
std::vector<std::string> key_paths(const C& config) {
  std::vector<std::string> paths;
  detail::KeyCollector collector(paths);
  detail::visit_const(config, collector);
  return paths;
}

// Applies a JSON object onto `config`: keys it names are set, the others keep their values.
// `source` starts every error message (a file name, "preset small", ...).
template <class C>
void apply_json(C& config, const nlohmann::json& j, const std::string& source) {
  detail::expect_top_level_object(j, source);
  const std::vector<std::string> all_paths = key_paths(config);
  detail::JsonReader reader(j, source, "", all_paths);
  config.visit(reader);
  reader.finish();
}

// Reads a JSON file (// and /* */ comments allowed) and applies it onto `config`.
template <class C>
void read_config_file(C& config, const std::filesystem::path& path) {
  apply_json(config, detail::parse_json_text(read_text_file(path), path.string()), path.string());
}

// Applies one "section.key=value" assignment. The value is read by the field's type: strings
// literally (a JSON-quoted string is unquoted), bools as true/false/1/0, numbers strictly, lists as
// a JSON array or comma-separated items, optionals as "null" for "not set".
template <class C>
void apply_override(C& config, const std::string& assignment, const std::string& source) {
  const detail::Assignment parsed = detail::parse_assignment(assignment, source);
  const std::vector<std::string> all_paths = key_paths(config);
  detail::OverrideSetter setter(parsed, 0, source, all_paths);
  config.visit(setter);
  setter.finish();
}

// Checks every Range and OneOf, then the check() hooks (each section's after its own fields and
// subsections, the top level's last). A hook's error is prefixed with its section's path.
template <class C>
void validate_config(const C& config) {
  detail::Validator validator;
  detail::visit_const(config, validator);
  detail::run_check(config, "");
}

// All fields in declaration order, sections as nested objects; an unset optional is null.
template <class C>
nlohmann::ordered_json to_json(const C& config) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  detail::JsonWriter writer(out);
  detail::visit_const(config, writer);
  return out;
}

// to_json(config).dump(2) and a newline, written atomically; read_config_file reads it back.
template <class C>
void save_resolved_config(const C& config, const std::filesystem::path& path) {
  detail::write_config_text(path, to_json(config));
}

// A Markdown table of every key: path, type, value in `config` (pass C{} for the defaults),
// constraint and description.
template <class C>
std::string describe_markdown(const C& config, const std::string& title) {
  std::vector<detail::DocRow> rows;
  detail::Describer describer(rows);
  detail::visit_const(config, describer);
  return detail::render_markdown(rows, title);
}

}  // namespace rlhf::config
