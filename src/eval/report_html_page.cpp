// The HTML report's page: the run table, what is missing, the sections of charts, the evaluation
// tables and the sample texts.
#include <cmath>
#include <cstdio>

#include "report_html_internal.h"
#include "rlhf/eval/report_html.h"

namespace rlhf::eval {
namespace {

using report::html;
using report::at;
using report::Json;
using report::mean_pm;
using report::num;
using report::run_color;

const char* const kStyle = R"(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1260px;
       padding: 0 12px; font-size: 14px; line-height: 1.4; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; width: 600px; } figcaption { font-size: 12px; color: #555; margin-top: 2px; }
svg.chart { border: 1px solid #e2e2e2; border-radius: 4px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
table.numbers td { text-align: right; white-space: nowrap; } table.numbers td:first-child { text-align: left; }
.pm { color: #777; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.missing { background: #fff8e1; border: 1px solid #f0d58c; border-radius: 4px; padding: 6px 14px; }
.missing ul { margin: 4px 0; padding-left: 20px; }
.evals { display: flex; flex-wrap: wrap; gap: 24px; }
table.samples { table-layout: fixed; width: 100%; }
table.samples td { white-space: pre-wrap; word-break: break-word; font-family: "DejaVu Sans Mono", monospace;
                   font-size: 12px; tab-size: 4; }
.query { color: #666; } .score { color: #777; font-family: "DejaVu Sans", sans-serif; }
code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
td:first-child, td code { white-space: nowrap; }
)";


// A JSON scalar as table text ("-" for null); not escaped.
std::string text_of(const Json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", j.get<double>());
    return buf;
  }
  return j.dump();
}

std::string swatch_name(const RunReport& run, std::size_t index) {
  return "<span class=\"swatch\" style=\"background:" + run_color(index) + "\"></span>" + html(run.name);
}

std::string cell(const std::string& s) {
  return "<td>" + s + "</td>";
}

std::string basename_of(const Json& path) {
  if (!path.is_string() || path.get<std::string>().empty()) return "-";
  return std::filesystem::path(path.get<std::string>()).filename().string();
}

// Labels the (last) reward model learned from, or what the configuration plans.
std::string labels_text(const RunReport& r) {
  for (auto it = r.reward_models.rbegin(); it != r.reward_models.rend(); ++it) {
    if (it->training.is_object() && it->training.contains("train_count")) {
      return std::to_string(it->training.value("train_count", 0) + it->training.value("validation_count", 0));
    }
  }
  if (r.kind != "train") return "-";
  if (at(r.config, {"policy", "reward"}) == "labeler") return "none (PPO on the labeler)";
  if (at(r.config, {"labels", "source"}) == "mock") {
    const Json questions = at(r.config, {"labels", "questions"});
    if (questions.is_number_integer()) {
      return std::to_string(questions.get<std::int64_t>() * r.planned_rounds) + " (planned)";
    }
  }
  return html(basename_of(at(r.config, {"labels", "path"})));
}

std::string reward_text(const RunReport& r) {
  if (r.kind == "train-reward") return "-";
  const Json reward = r.kind == "train" ? at(r.config, {"policy", "reward"}) : at(r.config, {"reward", "kind"});
  if (reward == "labeler") return "labeler (" + html(text_of(at(r.config, {"labels", "labeler", "kind"}))) + ")";
  return reward == "reward_model" || reward == "model" ? "reward model" : html(text_of(reward));
}

std::string kl_text(const Json& kl) {
  if (!kl.is_object()) return "-";
  if (kl.value("adaptive", false)) return num(kl.value("target", 0.0), 2) + " (β₀ " + text_of(kl["kl_coef"]) + ")";
  return "fixed β " + text_of(kl.value("kl_coef", Json()));
}

std::string runs_table(const std::vector<RunReport>& runs) {
  std::string t =
      "<table><tr><th>run</th><th>directory</th><th>kind</th><th>status</th><th>queries</th>"
      "<th>model</th><th>labels</th><th>PPO reward</th><th>learning rate</th><th>target KL</th>"
      "<th>episodes</th><th>rounds</th></tr>\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunReport& r = runs[i];
    const Json task = r.kind == "train-reward" ? r.config.value("queries", Json()) : at(r.config, {"task", "queries"});
    const Json lr = r.kind == "train"          ? at(r.config, {"policy", "ppo", "lr"})
                    : r.kind == "train-policy" ? at(r.config, {"ppo", "lr"})
                                               : at(r.config, {"training", "lr"});
    const Json kl = r.kind == "train" ? at(r.config, {"policy", "kl"}) : r.config.value("kl", Json());
    std::string episodes = "-";
    if (r.kind != "train-reward") {
      episodes = r.ppo.episodes.empty() ? "0" : num(r.ppo.episodes.back(), 0);
      if (r.ppo.total_batches > 0) episodes += " / " + std::to_string(r.ppo.total_batches * r.ppo.batch_size);
    }
    t +=
        "<tr>" + cell(swatch_name(r, i)) + cell("<code>" + html(r.dir.string()) + "</code>") +
        cell("<code>rlhf " + r.kind + "</code>") + cell(r.missing.empty() ? "finished" : "<b>partial</b>") +
        cell(html(basename_of(task.value("path", Json()))) + " (" + html(text_of(task.value("format", Json()))) + ")") +
        cell(html(text_of(r.config.value("model", Json())))) + cell(labels_text(r)) + cell(reward_text(r)) +
        cell(text_of(lr) + (r.kind == "train-reward" ? " (reward model)" : "")) + cell(kl_text(kl)) + cell(episodes) +
        cell(r.kind == "train" ? std::to_string(r.planned_rounds) : "-") + "</tr>\n";
  }
  return t + "</table>\n";
}

std::string missing_box(const std::vector<RunReport>& runs) {
  std::string s;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].missing.empty()) continue;
    s += "<p>" + swatch_name(runs[i], i) + ": shown as far as it got; not there:</p><ul>";
    for (const auto& m : runs[i].missing) s += "<li>" + html(m) + "</li>";
    s += "</ul>\n";
  }
  return s.empty() ? "" : "<div class=\"missing\">" + s + "</div>\n";
}

double number_or_nan(const Json& j, const char* key) {
  const Json v = j.value(key, Json());
  return v.is_number() ? v.get<double>() : NAN;
}

// "0.812 / 0.790", or "unknown" for labels without the labeler's scores (people, older files).
std::string ceiling_text(const Json& training) {
  const double train = number_or_nan(training, "train_ceiling");
  const double held_out = number_or_nan(training, "validation_ceiling");
  if (!std::isfinite(train) && !std::isfinite(held_out)) return "unknown";
  return num(train) + " / " + num(held_out);
}

std::string percent_or_dash(const Json& j) {
  return j.is_number() ? num(100 * j.get<double>(), 0) + "%" : "-";
}

std::string reward_model_table(const std::vector<RunReport>& runs) {
  std::string t =
      "<table class=\"numbers\"><tr><th>run</th><th>reward model</th><th>comparisons (train + held out)"
      "</th><th>steps</th><th>train accuracy</th><th>validation accuracy</th><th>validation loss</th>"
      "<th>chance</th><th>ceiling (train / held out)</th><th>achieved share of the possible gain (held out)</th>"
      "</tr>\n";
  bool any = false;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    for (const RewardCurve& rm : runs[i].reward_models) {
      const Json& tr = rm.training;
      if (!tr.is_object()) continue;
      any = true;
      t += "<tr>" + cell(swatch_name(runs[i], i)) + cell(html(rm.name)) +
           cell(text_of(tr.value("train_count", Json())) + " + " + text_of(tr.value("validation_count", Json()))) +
           cell(text_of(tr.value("steps", Json()))) + cell(num(tr.value("train_accuracy", NAN))) +
           cell(num(tr.value("validation_accuracy", NAN))) + cell(num(tr.value("validation_loss", NAN))) +
           cell(num(number_or_nan(tr, "chance"))) + cell(ceiling_text(tr)) +
           cell(percent_or_dash(tr.value("validation_gain_share", Json()))) + "</tr>\n";
    }
  }
  return any ? t + "</table>\n" : "";
}

std::string change_cell(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object() || !a.contains("mean") || !b.contains("mean")) return cell("-");
  const double d = b["mean"].get<double>() - a["mean"].get<double>();
  return cell((d >= 0 ? "+" : "") + num(d));  // not coloured: a rising KL is no success
}

std::string eval_row(const std::string& name, const Json& a, const Json& b) {
  return "<tr>" + cell(name) + cell(mean_pm(a)) + cell(mean_pm(b)) + change_cell(a, b) + "</tr>\n";
}

std::string percent(const Json& j) {
  return j.is_number() ? num(100 * j.get<double>(), 1) + "%" : "-";
}

std::string eval_table(const RunReport& r, std::size_t index) {
  const Json& a = r.initial;
  const Json& b = r.final;
  std::string t = "<div><h3>" + swatch_name(r, index) +
                  "</h3><table class=\"numbers\"><tr><th></th>"
                  "<th>initial policy</th><th>final policy</th><th>change</th></tr>\n";
  t += eval_row("score (what PPO maximises)", a.value("score", Json()), b.value("score", Json()));
  const Json scores = a.value("scores", Json::object());
  for (const auto& [name, stats] : scores.items()) {
    t += eval_row(html(name) + " score", stats, at(b, {"scores", name.c_str()}));
  }
  t += eval_row("KL to the initial policy (nats)", a.value("kl", Json()), b.value("kl", Json()));
  t += eval_row("entropy (nats)", a.value("entropy", Json()), b.value("entropy", Json()));
  t += "<tr>" + cell("without a truncate token") + cell(percent(a.value("penalized_fraction", Json()))) +
       cell(percent(b.value("penalized_fraction", Json()))) + cell("") + "</tr>\n";
  t += "<tr>" + cell("response tokens") + cell(num(a.value("mean_length", NAN), 1)) +
       cell(num(b.value("mean_length", NAN), 1)) + cell("") + "</tr>\n";
  const Json count = at(a, {"score", "count"});
  return t + "</table><div class=\"pm\">mean ± standard error over " + text_of(count) + " queries</div></div>\n";
}

std::string rounds_table(const RunReport& r, std::size_t index) {
  std::string t = "<h3>" + swatch_name(r, index) +
                  ": batched collection, per round</h3><table class=\"numbers\">"
                  "<tr><th>round</th><th>labels so far</th><th>reward model validation accuracy</th><th>episodes</th>"
                  "<th>score</th><th>mock labeler score</th><th>KL</th></tr>\n";
  for (const Json& round : r.rounds) {
    const Json p = round.value("policy", Json::object());
    t += "<tr>" + cell(text_of(round.value("round", Json()))) + cell(text_of(round.value("labels", Json()))) +
         cell(num(round.value("reward_model_validation_accuracy", NAN))) +
         cell(num(report::round_episodes(r, round.value("round", 0)), 0)) + cell(mean_pm(p.value("score", Json()))) +
         cell(mean_pm(report::labeler_stats(p))) + cell(mean_pm(p.value("kl", Json()))) + "</tr>\n";
  }
  return t + "</table>\n";
}

std::string evaluation_section(const std::vector<RunReport>& runs) {
  std::string evals, rounds;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].initial.is_object() && runs[i].final.is_object()) evals += eval_table(runs[i], i);
    if (!runs[i].rounds.empty()) rounds += rounds_table(runs[i], i);
  }
  if (evals.empty() && rounds.empty()) return "";
  return "<section id=\"evaluation\"><h2>Evaluation: initial and final policy</h2>\n<div class=\"evals\">" + evals +
         "</div>\n" + rounds + "</section>\n";
}

std::string sample_text(const Json& s) {
  return "<span class=\"query\">" + html(s.value("query", "")) + "</span><b>" + html(s.value("response", "")) +
         "</b>\n<span class=\"score\">score " + num(s.value("score", NAN), 2) + "</span>";
}

// The evaluation's samples: the initial and the final policy on the same queries, side by side.
std::string eval_samples(const RunReport& r, int limit) {
  const Json a = r.initial.value("samples", Json::array()), b = r.final.value("samples", Json::array());
  std::string t = "<table class=\"samples\"><tr><th>initial policy</th><th>final policy</th></tr>\n";
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) && i < static_cast<std::size_t>(limit); ++i) {
    t += "<tr>" + cell(i < a.size() ? sample_text(a[i]) : "") + cell(i < b.size() ? sample_text(b[i]) : "") + "</tr>\n";
  }
  return t + "</table>\n";
}

// Without an evaluation: PPO's samples of its first and its latest sampled batch.
std::string ppo_samples(const RunReport& r, int limit) {
  const Json first = r.ppo_samples.front().value("batch", Json()), last = r.ppo_samples.back().value("batch", Json());
  std::vector<Json> a, b;
  for (const Json& s : r.ppo_samples) {
    if (s.value("batch", Json()) == first && static_cast<int>(a.size()) < limit) a.push_back(s);
    if (s.value("batch", Json()) == last && static_cast<int>(b.size()) < limit) b.push_back(s);
  }
  if (first == last) b.clear();  // one sampled batch so far: one column
  std::string t = "<table class=\"samples\"><tr><th>PPO batch " + text_of(first) + "</th>" +
                  (b.empty() ? "" : "<th>PPO batch " + text_of(last) + "</th>") + "</tr>\n";
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    t += "<tr>" + cell(i < a.size() ? sample_text(a[i]) : "") +
         (b.empty() ? "" : cell(i < b.size() ? sample_text(b[i]) : "")) + "</tr>\n";
  }
  return t + "</table>\n";
}

std::string samples_section(const std::vector<RunReport>& runs, int limit) {
  std::string s;
  for (std::size_t i = 0; i < runs.size() && limit > 0; ++i) {
    const RunReport& r = runs[i];
    if (r.initial.contains("samples") && r.final.contains("samples")) {
      s += "<h3>" + swatch_name(r, i) + ": evaluation queries</h3>\n" + eval_samples(r, limit);
    } else if (!r.ppo_samples.empty()) {
      s += "<h3>" + swatch_name(r, i) + ": PPO samples (no evaluation yet)</h3>\n" + ppo_samples(r, limit);
    }
  }
  return s.empty() ? "" : "<section id=\"samples\"><h2>Samples</h2>\n" + s + "</section>\n";
}

}  // namespace

std::string render_report(const std::vector<RunReport>& runs, const ReportOptions& options) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                     html(options.title) + "</title>\n<style>" + kStyle + "</style></head>\n<body>\n<h1>" +
                     html(options.title) + "</h1>\n";
  page += "<section id=\"runs\"><h2>Runs</h2>\n" + runs_table(runs) + missing_box(runs) + "</section>\n";
  page += report::ppo_section(runs, options);
  const std::string rm_table = reward_model_table(runs);
  std::string rm = report::reward_model_section(runs);
  if (!rm.empty()) rm.insert(rm.rfind("</section>"), rm_table);
  page += rm;
  page += report::frontier_section(runs);
  page += evaluation_section(runs);
  page += samples_section(runs, options.samples);
  return page + "<footer class=\"pm\">Written by <code>rlhf report</code>.</footer>\n</body></html>\n";
}

}  // namespace rlhf::eval
