// rlhf tokenize: text to token ids and back, JSON Lines out.
#include <nlohmann/json.hpp>

#include <sstream>

#include "common.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct TokenizeConfig {
  core::RuntimeConfig runtime;  // only logging applies: tokenizing needs no LibTorch
  std::string model;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "Directory with the tokenizer files");
  }
};

struct TokenizeArgs {
  ConfigLayers layers;
  std::vector<std::string> texts;
  std::string file;
  bool decode = false;
  std::string output;
};

// "15496 995", "15496,995" or "[15496, 995]" -> ids.
std::vector<int> parse_ids(const std::string& text) {
  std::string cleaned = text;
  for (char& c : cleaned) {
    if (c == ',' || c == '[' || c == ']') c = ' ';
  }
  std::istringstream in(cleaned);
  std::vector<int> ids;
  std::string word;
  while (in >> word) {
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < 0 || value > (1LL << 31) - 1) {
      throw Error("--decode: expected token ids (non-negative integers), got \"" + word + "\"");
    }
    ids.push_back(static_cast<int>(value));
  }
  return ids;
}

void run_tokenize(const TokenizeArgs& args) {
  const auto config = resolve_config<TokenizeConfig>(args.layers);
  core::init_runtime(config.runtime);
  if (config.model.empty()) throw Error("no tokenizer: give --model DIR (a directory with vocab.json + merges.txt)");
  const auto tokenizer = tokenizer::load_tokenizer(config.model);
  const std::vector<std::string> inputs = gather_texts(args.texts, args.file, args.decode ? "ids" : "text",
                                                      "nothing to tokenize: give texts as arguments or --file FILE");
  std::string out;
  for (const auto& input : inputs) {
    nlohmann::json record;
    if (args.decode) {
      const std::vector<int> ids = parse_ids(input);
      record = {{"ids", ids}, {"text", tokenizer->decode(ids)}};
    } else {
      const std::vector<int> ids = tokenizer->encode(input);
      std::vector<std::string> pieces;
      for (int id : ids) pieces.push_back(tokenizer->id_to_piece(id));
      record = {{"text", input}, {"ids", ids}, {"pieces", pieces}, {"count", ids.size()}};
    }
    out += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  save_config_next_to(args.output, config);
  write_output(args.output, out);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  register_config_doc<TokenizeConfig>("tokenize");
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Text to token ids, or ids back to text (--decode)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model,--tokenizer", "model", args->layers, "Directory with the tokenizer files");
  cmd->add_option("texts", args->texts, "Texts (or id lists with --decode)");
  cmd->add_option("--file", args->file, "File of inputs: one per line, or JSON Lines with \"text\" (\"ids\" with --decode)");
  cmd->add_flag("--decode", args->decode, "Decode ids to text");
  cmd->add_option("--output,-o", args->output, "Output file (default: stdout)");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace rlhf::cli
