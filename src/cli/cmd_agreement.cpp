// rlhf agreement: how often two label files of the same questions chose the same sample (two people,
// or a person and a mock labeler), with the chance level and a 95% interval.
#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/agreement.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct AgreementConfig {
  core::RuntimeConfig runtime;
  data::LabelOptions labels;  // how both files are read
  std::string tokenizer;      // needed only for JSON Lines text labels

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Logging (nothing else is used)");
    v.section("labels", labels, "How both label files are read");
    v.field("tokenizer", tokenizer, "Directory with the tokenizer files; needed only for JSON Lines text labels");
  }
};

struct AgreementArgs {
  ConfigLayers layers;
  std::vector<std::string> files;
  std::string output;
};

// OpenAI files hold token ids: reading them needs no vocabulary, so without --tokenizer every
// non-negative id is accepted (both files are compared id for id).
class IdsOnlyTokenizer : public tokenizer::Tokenizer {
 public:
  std::vector<int> encode(std::string_view) const override { throw Error(kHint); }
  std::string decode(const std::vector<int>&) const override { throw Error(kHint); }
  std::string id_to_piece(int) const override { throw Error(kHint); }
  std::optional<int> token_id(std::string_view) const override { return std::nullopt; }
  int vocab_size() const override { return std::numeric_limits<int>::max(); }
  int eos_id() const override { return -1; }
  void save(const std::filesystem::path&) const override { throw Error(kHint); }
  std::string kind() const override { return "ids-only"; }

 private:
  static constexpr const char* kHint = "text labels (JSON Lines) need a tokenizer: give --tokenizer DIR";
};

data::LabelSet read(const std::string& path, const AgreementConfig& config) {
  if (!config.tokenizer.empty()) {
    return data::read_labels(path, *tokenizer::load_tokenizer(config.tokenizer), config.labels);
  }
  const std::string text = read_text_file(path);
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    throw_file_error(path, "JSON Lines text labels need a tokenizer to compare: give --tokenizer DIR");
  }
  return data::read_labels(path, IdsOnlyTokenizer{}, config.labels);
}

void run_agreement(AgreementArgs& args) {
  const auto config = resolve_config<AgreementConfig>(args.layers);
  core::init_runtime(config.runtime);
  log_config(config);
  const data::LabelSet a = read(args.files.at(0), config);
  const data::LabelSet b = read(args.files.at(1), config);
  const labelers::Agreement r =
      labelers::agreement(a.items, b.items, config.labels.pad_id, args.files[0], args.files[1]);
  fmt::print(
      "agreement {:.1f}% ({} of {} questions), chance {:.1f}%, standard error {:.1f}%, 95% interval "
      "{:.1f}%-{:.1f}% (Wilson), kappa {:.3f}\n",
      100 * r.rate, r.agreed, r.compared, 100 * r.chance, 100 * r.stderr_, 100 * r.ci_low, 100 * r.ci_high, r.kappa);
  if (r.only_in_b > 0) spdlog::info("{} questions of {} are not in {}", r.only_in_b, args.files[1], args.files[0]);
  if (!args.output.empty()) {
    const nlohmann::ordered_json out = {{"a", args.files[0]},  {"b", args.files[1]},      {"compared", r.compared},
                                        {"agreed", r.agreed},  {"rate", r.rate},          {"chance", r.chance},
                                        {"stderr", r.stderr_}, {"ci95_low", r.ci_low},    {"ci95_high", r.ci_high},
                                        {"kappa", r.kappa},    {"only_in_b", r.only_in_b}};
    write_output(args.output, out.dump(2) + "\n");
  }
}

}  // namespace

void register_agreement(CLI::App& app) {
  register_config_doc<AgreementConfig>("agreement");
  auto args = std::make_shared<AgreementArgs>();
  CLI::App* cmd = app.add_subcommand("agreement", "Agreement rate of two label files of the same questions");
  add_config_options(*cmd, args->layers);
  add_key_flag(*cmd, "--log-level", "runtime.log_level", args->layers, "trace, debug, info, warn, error, off");
  cmd->add_option("files", args->files, "The two label files (A and B; every question of A must be in B)")
      ->expected(2)
      ->required();
  add_key_flag(*cmd, "--tokenizer,--model", "tokenizer", args->layers, "Tokenizer directory (JSON Lines labels only)");
  cmd->add_option("--output,-o", args->output, "Also write the result as JSON to this file");
  cmd->callback([args] { run_agreement(*args); });
}

}  // namespace rlhf::cli
