// Fuzz target: the configuration loader (include/rlhf/config/): a JSON config file, then --set overrides,
// validation, the resolved config as save_resolved_config writes it, and the diff a resumed run prints.
// Input: the JSON text, then each --set assignment, separated by NUL bytes (a command-line argument
// cannot hold a NUL, so every argv string is reachable): `{"batch_size": 4}\0sampling.top_k=5\0...`.
// The struct fuzzed is FuzzConfig below: every field type and constraint the loader supports (the test
// suite's TestConfig sections) and two of the library's real option structs, queries and labels.
// Properties, besides "only rlhf::Error on bad input":
//   - the resolved config, as saved, reads back to the same config (saving is lossless);
//   - changed_keys against the defaults can be described (what a resumed run prints).
#include <optional>
#include <string>
#include <vector>

#include "../tests/config/test_configs.h"
#include "fuzz_util.h"
#include "rlhf/config/config.h"
#include "rlhf/config/diff.h"
#include "rlhf/data/labels.h"
#include "rlhf/data/queries.h"

namespace {

using namespace rlhf;
using rlhf::fuzz::accepts;

struct FuzzConfig {
  config::testing::RuntimeOptions runtime;
  config::testing::SamplingOptions sampling;
  config::testing::DeepOptions deep;
  data::QueryOptions queries;
  data::LabelOptions labels;
  int batch_size = 16;
  std::string size = "124M";
  std::optional<double> lr;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, precision");
    v.section("sampling", sampling, "How continuations are drawn");
    v.section("deep", deep, "Nested sections");
    v.section("queries", queries, "A query dataset");
    v.section("labels", labels, "A label file");
    v.field("batch_size", batch_size, "Prompts sampled together", config::Range::at_least(1));
    v.field("size", size, "GPT-2 size", config::OneOf{{"124M", "gpt2", "355M"}});
    v.field("lr", lr, "Optional learning rate", config::Range::greater_than(0.0));
  }
  void check() const {
    if (batch_size > 1000 && queries.path.empty()) throw Error("batch_size > 1000 needs queries.path");
  }
};

std::string saved_text(const FuzzConfig& config) {  // what save_resolved_config writes
  return config::to_json(config).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  rlhf::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(rlhf::fuzz::as_text(data, size));
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t nul = input.find('\0', start);
    parts.push_back(input.substr(start, nul == std::string::npos ? std::string::npos : nul - start));
    if (nul == std::string::npos) break;
    start = nul + 1;
  }

  FuzzConfig config;
  const bool valid = accepts([&] {
    if (!parts[0].empty()) config::apply_json(config, config::detail::parse_json_text(parts[0], "fuzz.json"), "fuzz.json");
    for (std::size_t i = 1; i < parts.size(); ++i) config::apply_override(config, parts[i], "--set");
    config::validate_config(config);
  });
  if (!valid) return 0;

  const std::string saved = saved_text(config);
  FuzzConfig again;
  config::apply_json(again, config::detail::parse_json_text(saved, "saved.json"), "saved.json");
  config::validate_config(again);
  FUZZ_CHECK(saved_text(again) == saved, "the saved config reads back differently");

  for (const auto& change : config::changed_keys(config::to_json(FuzzConfig{}), config::to_json(config))) {
    FUZZ_CHECK(!change.describe().empty(), "empty description of a changed key");
  }
  return 0;
}
