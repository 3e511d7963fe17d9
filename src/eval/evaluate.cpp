#include "rlhf/eval/evaluate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <sstream>

#include "rlhf/data/queries.h"
#include "rlhf/eval/policy_eval.h"
#include "rlhf/eval/summary_metrics.h"
#include "rlhf/model/inference.h"
#include "rlhf/ppo/policy.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::eval {
namespace fs = std::filesystem;
namespace {

std::string default_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  // A PPO run's policy sits at RUN/policy/checkpoint/policy: name it after the run.
  if (p.filename() == "policy" && p.parent_path().filename() == "checkpoint") {
    return p.parent_path().parent_path().parent_path().filename().string() + "/policy";
  }
  return p.filename().string();
}

EvalOptions eval_options(const EvaluateConfig& c) {
  EvalOptions o;
  o.response_length = c.task.response_length;
  o.temperature = c.task.temperature;
  o.truncation = {c.task.truncate_token, c.task.truncate_after, c.task.queries.pad_id, c.task.penalty_reward_value};
  o.batch_size = c.batch_size;
  o.samples_shown = c.samples_shown;
  o.seed = static_cast<std::uint64_t>(c.seed >= 0 ? c.seed : c.runtime.seed);
  return o;
}

// What the policies are scored with: the reward model when given (the labeler beside it), else the labeler.
struct Judges {
  std::unique_ptr<ppo::RewardFunction> primary, labeler;
  std::string primary_name;
  std::vector<std::pair<std::string, ppo::RewardFunction*>> extra;
};

Judges load_judges(const EvaluateConfig& c, const core::Runtime& runtime,
                   std::shared_ptr<const tokenizer::Tokenizer> tokenizer) {
  Judges j;
  const int pad = c.task.queries.pad_id;
  if (c.use_labeler) j.labeler = labelers::make_labeler_reward(c.labeler, runtime, pad, tokenizer);
  if (!c.reward_model.empty()) {
    j.primary = ppo::load_reward_model_function(c.reward_model, runtime, pad);
    j.primary_name = "reward model " + c.reward_model;
    if (j.labeler) j.extra.emplace_back("labeler", j.labeler.get());
  } else {
    j.primary_name = j.labeler->name();
    j.primary = std::move(j.labeler);
  }
  return j;
}

nlohmann::ordered_json evaluate_one(const EvaluateConfig& c, const core::Runtime& runtime, std::size_t k,
                                    model::Gpt2Impl& reference, Judges& judges, const data::QueryDataset& queries,
                                    const std::vector<std::size_t>& indices, const tokenizer::Tokenizer& tokenizer) {
  const std::string& dir = c.policies[k];
  const std::string name = c.names.empty() ? default_name(dir) : c.names[k];
  spdlog::info("eval: {} ({}) on {} queries", name, dir, indices.size());
  ppo::Policy policy = ppo::load_policy(dir);
  policy->to(runtime.device);
  EvalOptions options = eval_options(c);
  options.keep_responses = queries.has_references();  // summarization: ROUGE and copying need the texts
  const PolicyEvaluation e =
      evaluate_policy(*policy, reference, *judges.primary, judges.extra, queries, indices, options, &tokenizer);
  nlohmann::ordered_json j;
  j["name"] = name;
  j["path"] = dir;
  const nlohmann::ordered_json measured = e.to_json();  // named: items() of a temporary would dangle
  for (const auto& [key, value] : measured.items()) j[key] = value;
  if (!e.responses.empty()) {
    const nlohmann::ordered_json summary = summary_metrics(queries, indices, e.responses, c.summary);
    if (!summary.empty()) j["summary"] = summary;
  }
  return j;
}

std::string plus_minus(const nlohmann::json& stats, int precision) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << stats.at("mean").get<double>() << " ± "
    << stats.at("stderr").get<double>();
  return s.str();
}

std::string fixed(double value, int precision) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << value;
  return s.str();
}

std::size_t utf8_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;  // count code points, not continuation bytes
  return n;
}

// Rows of cells printed with each column padded to its widest cell.
std::string align(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], utf8_width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - utf8_width(row[i]) + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

void check_evaluate_config(const EvaluateConfig& c) {
  if (c.policies.empty()) throw Error("policies: no policy to evaluate (give --policy DIR, or --run RUN_DIR)");
  if (!c.names.empty() && c.names.size() != c.policies.size()) {
    throw Error("names: " + std::to_string(c.names.size()) + " names for " + std::to_string(c.policies.size()) +
                " policies (give one per policy, or none)");
  }
  if (c.reward_model.empty() && !c.use_labeler) {
    throw Error("reward_model: nothing to score the policies with; give a reward model (--reward-model DIR) or a "
                "mock labeler (--labeler KIND)");
  }
  if (c.use_labeler) {
    if (c.labeler.kind == "person") {
      throw Error("labeler.kind: person cannot score samples; use `rlhf compare --export` for people");
    }
    c.labeler.check();
  }
  if (c.task.queries.path.empty()) throw Error("task.queries.path: no query dataset given (--queries FILE)");
}

nlohmann::ordered_json evaluate_policies(const EvaluateConfig& c, const core::Runtime& runtime) {
  check_evaluate_config(c);
  if (!c.output.empty()) check_writable_directory(fs::path(c.output).parent_path(), "output");
  const std::string reference_dir = c.reference.empty() ? c.policies.front() : c.reference;
  const std::shared_ptr<const tokenizer::Tokenizer> tokenizer = tokenizer::load_tokenizer(reference_dir);
  const data::QueryDataset queries = data::QueryDataset::load(c.task.queries, *tokenizer);
  const std::vector<std::size_t> indices = held_out_indices(queries, static_cast<std::size_t>(c.queries));
  Judges judges = load_judges(c, runtime, tokenizer);
  model::Gpt2 reference = model::load_inference_model(reference_dir, runtime);

  nlohmann::ordered_json result;
  result["queries"] = indices.size();
  result["query_file"] = c.task.queries.path;
  result["judge"] = judges.primary_name;
  if (judges.labeler) result["labeler"] = judges.labeler->name();
  result["reference"] = reference_dir;
  result["seed"] = eval_options(c).seed;
  result["policies"] = nlohmann::ordered_json::array();
  for (std::size_t k = 0; k < c.policies.size(); ++k) {
    result["policies"].push_back(evaluate_one(c, runtime, k, *reference, judges, queries, indices, *tokenizer));
  }
  if (queries.has_references() && c.summary.lead3) {
    result["lead3"] = lead3_metrics(queries, indices, c.summary);
  }
  if (!c.output.empty()) {
    // Sample texts may hold a token cut mid-character: invalid UTF-8 becomes U+FFFD.
    write_file_atomic(c.output, result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  return result;
}

std::string format_evaluation(const nlohmann::ordered_json& result) {
  const auto& policies = result.at("policies");
  const bool labeler = !policies.empty() && policies[0].contains("scores");
  const bool rouge = !policies.empty() && policies[0].contains("summary") && policies[0]["summary"].contains("rouge");
  const bool copying = !policies.empty() && policies[0].contains("summary") &&
                       policies[0]["summary"].contains("copying");
  std::vector<std::string> header = {"policy", "score", "KL", "entropy", "length", "truncated", "penalized"};
  if (labeler) header.insert(header.begin() + 2, "labeler");
  if (rouge) header.insert(header.end(), {"ROUGE-1", "ROUGE-2", "ROUGE-L"});
  if (copying) header.push_back("novelty");
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& p : policies) {
    std::vector<std::string> row = {p.at("name").get<std::string>(), plus_minus(p.at("score"), 3),
                                    plus_minus(p.at("kl"), 2), plus_minus(p.at("entropy"), 2),
                                    fixed(p.at("mean_length").get<double>(), 1),
                                    fixed(100 * p.at("truncated_fraction").get<double>(), 0) + "%",
                                    fixed(100 * p.at("penalized_fraction").get<double>(), 0) + "%"};
    if (labeler) row.insert(row.begin() + 2, plus_minus(p["scores"]["labeler"], 3));
    if (rouge) {
      for (const char* key : {"rouge1", "rouge2", "rougeL"}) row.push_back(plus_minus(p["summary"]["rouge"][key], 3));
    }
    if (copying) row.push_back(fixed(100 * p["summary"]["copying"].at("novelty").get<double>(), 1) + "%");
    rows.push_back(row);
  }
  if (rouge && result.contains("lead3")) {
    std::vector<std::string> row(header.size(), "");
    row[0] = "lead-3";
    const std::size_t first = header.size() - (copying ? 4 : 3);
    for (std::size_t i = 0; i < 3; ++i) {
      row[first + i] = plus_minus(result["lead3"]["rouge"][std::vector<const char*>{"rouge1", "rouge2", "rougeL"}[i]], 3);
    }
    rows.push_back(row);
  }
  std::string out = "judge: " + result.at("judge").get<std::string>() + "; " +
                    std::to_string(result.at("queries").get<std::size_t>()) + " queries of " +
                    result.at("query_file").get<std::string>() + " (mean ± standard error)\n";
  return out + align(rows);
}

}  // namespace rlhf::eval
