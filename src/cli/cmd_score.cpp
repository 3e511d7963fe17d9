// rlhf score: rewards of (query, response) pairs under a trained reward model, JSON out.
#include <nlohmann/json.hpp>
#include <sstream>

#include "common.h"
#include "rlhf/model/batching.h"
#include "rlhf/reward/reward_model.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct ScoreConfig {
  core::RuntimeConfig runtime;
  std::string reward_model;  // directory written by rlhf train-reward
  int batch_size = 32;

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("reward_model", reward_model, "Reward-model directory (from rlhf train-reward)");
    v.field("batch_size", batch_size, "Pairs scored together", config::Range::at_least(1));
  }
};

struct ScoreArgs {
  ConfigLayers layers;
  std::vector<std::string> queries, responses;
  std::string file;
  std::string output;
};

struct Pair {
  std::vector<int> query, response;
  nlohmann::json source;  // what is echoed in the output
  std::string where;      // "FILE: line N" or "pair N", for errors
};

// A JSON Lines file of {"query", "response"} texts or {"query_tokens", "response_tokens"} ids.
std::vector<Pair> read_pairs(const std::string& path, const tokenizer::Tokenizer& tokenizer) {
  std::vector<Pair> pairs;
  std::istringstream lines(read_text_file(path));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "line " + std::to_string(number) + ": ";
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw_file_error(path, where + "invalid JSON (" + e.what() + ")");
    }
    Pair pair;
    try {
      if (record.contains("query_tokens") && record.contains("response_tokens")) {
        pair.query = record.at("query_tokens").get<std::vector<int>>();
        pair.response = record.at("response_tokens").get<std::vector<int>>();
      } else if (record.contains("query") && record.contains("response")) {
        pair.query = tokenizer.encode(record.at("query").get<std::string>());
        pair.response = tokenizer.encode(record.at("response").get<std::string>());
      } else {
        throw_file_error(path,
                         where + "expected {\"query\", \"response\"} texts or {\"query_tokens\", \"response_tokens\"}");
      }
    } catch (const nlohmann::json::exception& e) {
      throw_file_error(path, where + "wrong type (" + e.what() + ")");
    }
    pair.source = record;
    pair.where = path + ": line " + std::to_string(number);
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

// Every id is in the vocabulary or the pad id, and the real tokens of each pair fit the context.
void check_pairs(const std::vector<Pair>& pairs, int pad_id, const model::Gpt2Config& config) {
  for (const auto& pair : pairs) {
    int real = 0;
    for (const auto* ids : {&pair.query, &pair.response}) {
      for (int id : *ids) {
        if (id == pad_id) continue;
        if (id < 0 || id >= config.vocab_size) {
          throw Error(pair.where + ": token id " + std::to_string(id) + " is outside the vocabulary (" +
                      std::to_string(config.vocab_size) + " ids) and not the pad id " + std::to_string(pad_id));
        }
        ++real;
      }
    }
    if (real > config.n_positions) {
      throw Error(pair.where + ": " + std::to_string(real) + " tokens, more than the model's context of " +
                  std::to_string(config.n_positions));
    }
  }
}

void run_score(ScoreArgs& args) {
  const auto config = resolve_config<ScoreConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  check_output_file(args.output);
  if (config.reward_model.empty()) throw Error("reward_model: no directory given (--reward-model DIR)");
  if (args.queries.size() != args.responses.size()) {
    throw Error("give as many --response as --query (got " + std::to_string(args.queries.size()) + " and " +
                std::to_string(args.responses.size()) + ")");
  }
  const auto tokenizer = tokenizer::load_tokenizer(config.reward_model);
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < args.queries.size(); ++i) {
    pairs.push_back({tokenizer->encode(args.queries[i]),
                     tokenizer->encode(args.responses[i]),
                     {{"query", args.queries[i]}, {"response", args.responses[i]}},
                     "pair " + std::to_string(i)});
  }
  if (!args.file.empty()) {
    auto more = read_pairs(args.file, *tokenizer);
    pairs.insert(pairs.end(), more.begin(), more.end());
  }
  if (pairs.empty()) throw Error("nothing to score: give --query TEXT --response TEXT, or --file FILE");

  nlohmann::json info;
  reward::RewardModel model = reward::load_reward_model(config.reward_model, &info);
  const int pad_id = info.value("pad_id", 50259);
  check_pairs(pairs, pad_id, model->trunk->config());
  const at::ScalarType dtype = core::precision_dtype(runtime.precision);
  if (dtype == at::kHalf && runtime.device.is_cpu())
    throw Error("precision: fp16 is not supported on the CPU (use fp32 or bf16)");
  model->to(runtime.device, dtype);
  model->eval();
  at::NoGradGuard no_grad;
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t start = 0; start < pairs.size(); start += config.batch_size) {
    const std::size_t end = std::min(pairs.size(), start + config.batch_size);
    std::vector<std::vector<int>> queries, responses;
    for (std::size_t i = start; i < end; ++i) {
      queries.push_back(pairs[i].query);
      responses.push_back(pairs[i].response);
    }
    const at::Tensor rewards = model
                                   ->score(model::pad_right(queries, pad_id).ids.to(runtime.device),
                                           model::pad_right(responses, pad_id).ids.to(runtime.device), pad_id)
                                   .cpu();
    for (std::size_t i = start; i < end; ++i) {
      nlohmann::json r = pairs[i].source;
      r["reward"] = rewards[static_cast<std::int64_t>(i - start)].item<double>();
      results.push_back(r);
    }
  }
  save_config_next_to(args.output, config);
  write_output(args.output, results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace

void register_score(CLI::App& app) {
  register_config_doc<ScoreConfig>("score");
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd = app.add_subcommand("score", "Rewards of (query, response) pairs under a reward model (JSON out)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--reward-model,--model", "reward_model", args->layers, "Reward-model directory");
  cmd->add_option("--query,-q", args->queries, "A query (repeatable; pairs with --response in order)");
  cmd->add_option("--response,-r", args->responses, "A response (repeatable)");
  cmd->add_option("--file", args->file, "JSON Lines of {query, response} or {query_tokens, response_tokens}");
  cmd->add_option("--output,-o", args->output, "Output JSON file (default: stdout)");
  add_key_flag(*cmd, "--batch-size,-b", "batch_size", args->layers, "Pairs per batch");
  cmd->callback([args] { run_score(*args); });
}

}  // namespace rlhf::cli
