// Reading run directories for the HTML report: what `rlhf train`, `train-policy` and `train-reward`
// wrote, as far as it exists.
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "rlhf/eval/report_html.h"
#include "rlhf/util/error.h"
#include "report_html_internal.h"
#include "rlhf/util/files.h"

namespace rlhf::eval {
namespace {

namespace fs = std::filesystem;
using report::at;
using Json = nlohmann::ordered_json;

Json read_json(const fs::path& path) {
  try {
    return Json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(path.string(), std::string("not valid JSON (") + e.what() + ")");
  }
}

Json read_json_if_exists(const fs::path& path) {
  return fs::exists(path) ? read_json(path) : Json();
}

// One JSON object per line. A last line cut short by a kill is dropped; a bad line before it is an error.
std::vector<Json> read_json_lines(const fs::path& path) {
  std::vector<Json> records;
  if (!fs::exists(path)) return records;
  std::ifstream in(path);
  if (!in) throw_file_error(path.string(), "cannot be read");
  std::string line, bad;
  std::size_t number = 0, bad_number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!bad.empty()) {
      throw_file_error(path.string() + ":" + std::to_string(bad_number), "not a JSON object (" + bad + ")");
    }
    try {
      records.push_back(Json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      bad = e.what();
      bad_number = number;
    }
  }
  return records;
}

// A number of a record, NaN when absent or null (a non-finite value is written as null).
double number(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return NAN;
  return j[key].get<double>();
}


std::int64_t integer_or(const Json& j, std::int64_t fallback) {
  return j.is_number() ? j.get<std::int64_t>() : fallback;
}

std::string kind_of(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(dir.string() +
                ": no such directory (expected a run directory of rlhf train, train-policy or "
                "train-reward)");
  }
  if (fs::exists(dir / "reward_model.json") || fs::exists(dir / "train_reward.config.json")) return "train-reward";
  if (fs::exists(dir / "config.json")) {
    const Json c = read_json(dir / "config.json");
    if (c.is_object() && c.contains("labels") && c.contains("policy")) return "train";
    if (c.is_object() && c.contains("ppo") && c.contains("reward")) return "train-policy";
  }
  throw Error(dir.string() +
              ": not a run directory: expected the config.json of `rlhf train` (with policy/, reward_model/, eval/), "
              "the config.json and metrics.jsonl of `rlhf train-policy`, or the reward_model.json of "
              "`rlhf train-reward`");
}

PpoCurve read_ppo(const fs::path& metrics, const Json& ppo_config) {
  PpoCurve c;
  c.batch_size = integer_or(at(ppo_config, {"batch_size"}), 0);
  const std::int64_t total = integer_or(at(ppo_config, {"total_episodes"}), 0);
  if (c.batch_size > 0 && total > 0) c.total_batches = (total + c.batch_size - 1) / c.batch_size;
  double previous = 0;
  for (const Json& r : read_json_lines(metrics)) {
    const double episodes = number(r, "episodes");
    // Episodes of this batch: from the configuration, else the difference to the previous record.
    const double b = c.batch_size > 0 ? static_cast<double>(c.batch_size) : episodes - previous;
    previous = episodes;
    c.episodes.push_back(episodes);
    c.score.push_back(number(r, "score_mean"));
    c.score_stderr.push_back(b > 0 ? number(r, "score_std") / std::sqrt(b) : NAN);
    c.kl.push_back(number(r, "kl"));
    c.kl_coef.push_back(number(r, "kl_coef"));
    c.entropy.push_back(number(r, "entropy"));
  }
  return c;
}

// reward_model.json keeps the training summary under "training" (older files: under "info").
Json training_summary(const Json& rm) {
  if (rm.contains("training")) return rm["training"];
  return at(rm, {"info", "training"});
}

RewardCurve read_reward_model(const fs::path& dir, const std::string& name) {
  RewardCurve c;
  c.name = name;
  c.dir = dir;
  for (const Json& r : read_json_lines(dir / "metrics.jsonl")) {
    if (r.value("eval", false)) {
      c.eval_step.push_back(number(r, "step"));
      c.validation_loss.push_back(number(r, "validation_loss"));
      c.validation_accuracy.push_back(number(r, "validation_accuracy"));
    } else if (r.contains("accuracy")) {
      c.step.push_back(number(r, "step"));
      c.loss.push_back(number(r, "loss"));
      c.accuracy.push_back(number(r, "accuracy"));
    }
  }
  const Json rm = read_json_if_exists(dir / "reward_model.json");
  if (rm.is_object()) {
    c.training = training_summary(rm);
    const Json n = rm.contains("num_samples") ? rm["num_samples"] : at(rm, {"info", "num_samples"});
    c.num_samples = static_cast<int>(integer_or(n, 0));
  }
  return c;
}

void note_ppo_progress(RunReport& r, const std::string& metrics_name) {
  const auto done = static_cast<std::int64_t>(r.ppo.episodes.size());
  if (done == 0) {
    r.missing.push_back(metrics_name + ": no PPO batch yet");
  } else if (r.ppo.total_batches > 0 && done < r.ppo.total_batches) {
    r.missing.push_back("PPO: " + std::to_string(done) + " of " + std::to_string(r.ppo.total_batches) +
                        " batches done (still running, or stopped; run the same command again to continue)");
  }
}

void read_train_reward_models(RunReport& r) {
  if (at(r.config, {"policy", "reward"}) == "labeler") return;  // PPO maximises the labeler directly
  for (int round = 0; round < r.planned_rounds; ++round) {
    const fs::path dir = round == 0 ? r.dir / "reward_model" : r.dir / ("reward_model_round_" + std::to_string(round));
    const std::string name = r.planned_rounds > 1 ? "round " + std::to_string(round) : "reward model";
    if (fs::exists(dir / "metrics.jsonl")) {
      r.reward_models.push_back(read_reward_model(dir, name));
    } else {
      r.missing.push_back(dir.filename().string() + "/: " + name + " not trained yet");
    }
  }
}

void read_train_evals(RunReport& r) {
  const fs::path eval = r.dir / "eval";
  for (int round = 0; round < r.planned_rounds && r.planned_rounds > 1; ++round) {
    const fs::path p = eval / ("round_" + std::to_string(round) + ".json");
    if (!fs::exists(p)) {
      r.missing.push_back("eval/" + p.filename().string() + ": round " + std::to_string(round) + " not evaluated yet");
      break;  // later rounds cannot exist either
    }
    r.rounds.push_back(read_json(p));
  }
  if (at(r.config, {"eval", "enabled"}) == false) {
    r.missing.push_back("eval: disabled in the configuration (eval.enabled = false)");
    return;
  }
  r.initial = read_json_if_exists(eval / "initial.json");
  r.final = read_json_if_exists(eval / "final.json");
  if (r.initial.is_null()) r.missing.push_back("eval/initial.json: the initial policy not evaluated yet");
  if (r.final.is_null()) r.missing.push_back("eval/final.json: the final policy not evaluated yet");
}

void read_train(RunReport& r) {
  r.config = read_json(r.dir / "config.json");
  const bool mock_rounds =
      at(r.config, {"labels", "source"}) == "mock" && at(r.config, {"policy", "reward"}) != "labeler";
  r.planned_rounds =
      mock_rounds ? static_cast<int>(std::max<std::int64_t>(1, integer_or(at(r.config, {"labels", "rounds"}), 1))) : 1;
  r.summary = read_json_if_exists(r.dir / "summary.json");
  read_train_reward_models(r);
  r.ppo = read_ppo(r.dir / "policy" / "metrics.jsonl", at(r.config, {"policy", "ppo"}));
  note_ppo_progress(r, "policy/metrics.jsonl");
  r.ppo_samples = read_json_lines(r.dir / "policy" / "samples.jsonl");
  read_train_evals(r);
  if (r.summary.is_null()) r.missing.push_back("summary.json: not written yet (the run has not finished)");
}

void read_train_policy(RunReport& r) {
  r.config = read_json(r.dir / "config.json");
  r.ppo = read_ppo(r.dir / "metrics.jsonl", at(r.config, {"ppo"}));
  note_ppo_progress(r, "metrics.jsonl");
  r.ppo_samples = read_json_lines(r.dir / "samples.jsonl");
  r.missing.push_back("evaluation: `rlhf train-policy` does not evaluate (no before/after numbers, no frontier point)");
}

void read_train_reward(RunReport& r) {
  r.config = read_json_if_exists(r.dir / "train_reward.config.json");
  if (!fs::exists(r.dir / "reward_model.json")) r.missing.push_back("reward_model.json: training not finished");
  r.reward_models.push_back(read_reward_model(r.dir, "reward model"));
}

std::vector<std::string> parts_of(const fs::path& p) {
  std::vector<std::string> parts;
  for (const auto& part : p) {
    if (!part.empty() && part != "." && part != "/") parts.push_back(part.string());
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, std::size_t from) {
  std::string s;
  for (std::size_t i = from; i < parts.size(); ++i) s += (s.empty() ? "" : "/") + parts[i];
  return s;
}

}  // namespace

RunReport load_run(const fs::path& dir) {
  RunReport r;
  r.dir = dir;
  r.kind = kind_of(dir);
  if (r.kind == "train") {
    read_train(r);
  } else if (r.kind == "train-policy") {
    read_train_policy(r);
  } else {
    read_train_reward(r);
  }
  r.name = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  return r;
}

void name_runs(std::vector<RunReport>& runs) {
  std::vector<std::vector<std::string>> parts;
  for (const RunReport& r : runs) parts.push_back(parts_of(fs::absolute(r.dir).lexically_normal()));
  // Leading folders every path shares (keeping at least the last folder of each).
  std::size_t common = 0;
  const auto shared = [&](std::size_t i) {
    for (const auto& p : parts) {
      if (i + 1 >= p.size() || p[i] != parts[0][i]) return false;
    }
    return true;
  };
  while (!parts.empty() && shared(common)) ++common;
  // Each name: the path after the shared folders, at most its last two (runs far apart in the file
  // system, a lone run); all of it where two names would be the same.
  std::vector<std::string> names;
  for (const auto& p : parts) {
    const std::size_t tail = p.size() >= 2 ? p.size() - 2 : 0;
    names.push_back(join(p, runs.size() == 1 ? tail : std::max(common, tail)));
  }
  if (std::set<std::string>(names.begin(), names.end()).size() < names.size()) {
    for (std::size_t i = 0; i < parts.size(); ++i) names[i] = join(parts[i], common);
  }
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string name = names[i].empty() ? runs[i].dir.string() : names[i];
    if (++seen[name] > 1) name += " (" + std::to_string(seen[name]) + ")";
    runs[i].name = name;
  }
}

void write_report(const std::vector<fs::path>& dirs, const fs::path& output, const ReportOptions& options) {
  if (dirs.empty()) throw Error("report: no run directory given");
  std::vector<RunReport> runs;
  for (const fs::path& d : dirs) runs.push_back(load_run(d));
  name_runs(runs);
  if (output.has_parent_path()) fs::create_directories(output.parent_path());
  write_file_atomic(output, render_report(runs, options));
}

}  // namespace rlhf::eval
