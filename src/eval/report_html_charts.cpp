// The charts of the HTML report: PPO curves, reward-model training, the reward-versus-KL frontier.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <tuple>

#include "report_html_internal.h"

namespace rlhf::eval::report {
namespace {

using chart::Chart;
using chart::LabeledPoint;
using chart::ReferenceLine;
using chart::Series;

// Means of consecutive buckets, so that a long curve has at most `max_points` points (NaNs skipped).
// With `as_stderr`, the bucket value is the standard error of the bucket's mean: sqrt(sum se^2) / n.
std::vector<double> bucket_means(const std::vector<double>& v, std::size_t max_points, bool as_stderr = false) {
  if (v.size() <= max_points || max_points == 0) return v;
  std::vector<double> out;
  for (std::size_t b = 0; b < max_points; ++b) {
    const std::size_t from = b * v.size() / max_points, to = (b + 1) * v.size() / max_points;
    double sum = 0;
    int n = 0;
    for (std::size_t i = from; i < to; ++i) {
      if (!std::isfinite(v[i])) continue;
      sum += as_stderr ? v[i] * v[i] : v[i];
      ++n;
    }
    out.push_back(n == 0 ? NAN : as_stderr ? std::sqrt(sum) / n : sum / n);
  }
  return out;
}

// Centred moving mean over `window` points (shorter at the ends), NaNs skipped.
std::vector<double> moving_mean(const std::vector<double>& v, std::size_t window) {
  std::vector<double> out(v.size(), NAN);
  const std::size_t half = window / 2;
  for (std::size_t i = 0; i < v.size(); ++i) {
    double sum = 0;
    int n = 0;
    for (std::size_t j = i >= half ? i - half : 0; j <= std::min(v.size() - 1, i + half); ++j) {
      if (std::isfinite(v[j])) sum += v[j], ++n;
    }
    if (n > 0) out[i] = sum / n;
  }
  return out;
}

double mean_of(const Json& stats) {
  return stats.is_object() && stats.contains("mean") && stats["mean"].is_number() ? stats["mean"].get<double>() : NAN;
}
double stderr_of(const Json& stats) {
  return stats.is_object() && stats.contains("stderr") && stats["stderr"].is_number() ? stats["stderr"].get<double>()
                                                                                      : 0.0;
}

// PPO's KL options: `policy.kl` of `rlhf train`, `kl` of `rlhf train-policy`.
Json kl_options(const RunReport& run) {
  if (run.config.contains("policy") && run.config["policy"].contains("kl")) return run.config["policy"]["kl"];
  return run.config.value("kl", Json::object());
}

Series ppo_series(const RunReport& run, std::size_t index, const std::vector<double>& values,
                  const ReportOptions& options) {
  Series s;
  s.name = run.name;
  s.color = run_color(index);
  const auto n = static_cast<std::size_t>(options.max_points);
  s.x = bucket_means(run.ppo.episodes, n);
  s.y = bucket_means(values, n);
  return s;
}

Chart ppo_chart(const std::string& id, const std::string& title, const std::string& y_label) {
  Chart c;
  c.id = id;
  c.title = title;
  c.x_label = "episodes";
  c.y_label = y_label;
  c.x_min = 0;
  return c;
}

// Horizontal lines at the KL targets of adaptive runs: one grey line when they share a target.
void add_kl_targets(Chart& c, const std::vector<RunReport>& runs) {
  std::set<double> targets;
  for (const RunReport& r : runs) {
    const Json kl = kl_options(r);
    if (!r.ppo.episodes.empty() && kl.value("adaptive", false) && kl.contains("target")) {
      targets.insert(kl["target"].get<double>());
    }
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Json kl = kl_options(runs[i]);
    if (runs[i].ppo.episodes.empty() || !kl.value("adaptive", false) || !kl.contains("target")) continue;
    const double t = kl["target"].get<double>();
    if (targets.size() == 1) {
      c.lines.push_back({t, "target KL " + num(t, 2), "#555"});
      return;
    }
    c.lines.push_back({t, runs[i].name + " target " + num(t, 2), run_color(i)});
  }
}

// The mock labeler's score at each evaluation of a run: the initial policy (episode 0), the end of each
// round, the final policy. As a line with error bars.
void add_labeler_points(Chart& c, const RunReport& run, std::size_t index) {
  std::vector<std::pair<double, Json>> at;
  if (!run.initial.is_null()) at.emplace_back(0.0, labeler_stats(run.initial));
  for (const Json& r : run.rounds) {
    at.emplace_back(round_episodes(run, r.value("round", 0)), labeler_stats(r.value("policy", Json::object())));
  }
  if (!run.final.is_null() && !run.ppo.episodes.empty()) {
    at.emplace_back(run.ppo.episodes.back(), labeler_stats(run.final));
  }
  Series line;
  line.name = run.name;
  line.color = run_color(index);
  for (const auto& [x, stats] : at) {
    if (stats.is_null()) continue;
    line.x.push_back(x);
    line.y.push_back(mean_of(stats));
    c.points.push_back({x, mean_of(stats), 0, stderr_of(stats), "", run_color(index)});
  }
  if (!line.x.empty()) c.series.push_back(line);
}

std::string join_figures(const std::vector<std::string>& figures) {
  std::string s = "<div class=\"charts\">\n";
  for (const auto& f : figures) s += f;
  return s + "</div>\n";
}

// One reward model's curves: smoothed training values and the held-out dots, in one colour.
void add_reward_curves(Chart& c, const RewardCurve& rm, const std::string& name, const std::string& color,
                       const std::vector<double>& train, const std::vector<double>& validation) {
  Series line;
  line.name = name;
  line.color = color;
  line.x = rm.step;
  line.y = moving_mean(train, std::max<std::size_t>(1, train.size() / 20));
  c.series.push_back(line);
  Series dots;
  dots.color = color;
  dots.line = false;
  dots.markers = true;
  dots.x = rm.eval_step;
  dots.y = validation;
  c.series.push_back(dots);
}

// The accuracy ceiling of a reward model's labels (reward/accuracy.h): the held-out one, else the
// training one; nothing when unknown (labels from people).
void add_ceiling_line(Chart& c, const RewardCurve& rm, const std::string& name, const std::string& color, bool named) {
  if (!rm.training.is_object()) return;
  for (const char* key : {"validation_ceiling", "train_ceiling"}) {
    const Json v = rm.training.value(key, Json());
    if (!v.is_number()) continue;
    const double ceiling = v.get<double>();
    c.lines.push_back({ceiling, (named ? name + " " : std::string()) + "ceiling " + num(ceiling, 2), color});
    return;
  }
}

struct FrontierPoint {
  std::string label;
  Json eval;  // a PolicyEvaluation's JSON
};

// The policies of a run on the frontier: initial, each round but the last (the final policy), final.
std::vector<FrontierPoint> frontier_points(const RunReport& run) {
  std::vector<FrontierPoint> points;
  if (!run.initial.is_null()) points.push_back({"initial", run.initial});
  for (const Json& r : run.rounds) {
    const int round = r.value("round", 0);
    if (!run.final.is_null() && round == run.planned_rounds - 1) continue;
    points.push_back({"round " + std::to_string(round), r.value("policy", Json::object())});
  }
  if (!run.final.is_null()) points.push_back({"final", run.final});
  return points;
}

std::string frontier_table(const std::vector<RunReport>& runs) {
  std::string t =
      "<table class=\"numbers\"><tr><th>run</th><th>policy</th><th>KL (nats)</th><th>score</th>"
      "<th>mock labeler score</th></tr>\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    for (const FrontierPoint& p : frontier_points(runs[i])) {
      t += "<tr><td><span class=\"swatch\" style=\"background:" + run_color(i) + "\"></span>" + html(runs[i].name) +
           "</td><td>" + html(p.label) + "</td><td>" + mean_pm(p.eval.value("kl", Json())) + "</td><td>" +
           mean_pm(p.eval.value("score", Json())) + "</td><td>" + mean_pm(labeler_stats(p.eval)) + "</td></tr>\n";
    }
  }
  return t + "</table>\n";
}

}  // namespace

Json at(const Json& j, std::initializer_list<const char*> keys) {
  const Json* p = &j;
  for (const char* k : keys) {
    if (!p->is_object() || !p->contains(k)) return Json();
    p = &(*p)[k];
  }
  return *p;
}

std::string num(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string mean_pm(const Json& stats, int digits) {
  if (!std::isfinite(mean_of(stats))) return "-";
  return num(mean_of(stats), digits) + " <span class=\"pm\">± " + num(stderr_of(stats), digits) + "</span>";
}

double round_episodes(const RunReport& run, int round) {
  const std::int64_t batches = run.ppo.total_batches, rounds = std::max(1, run.planned_rounds);
  const std::int64_t stop = (batches * (round + 1) + rounds - 1) / rounds;  // as `rlhf train` splits PPO
  return static_cast<double>(stop * run.ppo.batch_size);
}

Json labeler_stats(const Json& eval) {
  if (eval.contains("scores") && eval["scores"].contains("labeler")) return eval["scores"]["labeler"];
  return Json();
}

std::string figure(const chart::Chart& c, const std::string& caption) {
  return "<figure>" + chart::render_svg(c) + "<figcaption>" + caption + "</figcaption></figure>\n";
}

std::string ppo_section(const std::vector<RunReport>& runs, const ReportOptions& options) {
  if (std::all_of(runs.begin(), runs.end(), [](const RunReport& r) { return r.ppo.episodes.empty(); })) return "";
  Chart score = ppo_chart("ppo-score", "Score (what PPO maximises)", "score");
  Chart kl = ppo_chart("ppo-kl", "KL(π, ρ) per episode", "KL (nats)");
  Chart beta = ppo_chart("ppo-beta", "β, the KL coefficient", "β");
  Chart labeler = ppo_chart("ppo-labeler", "Mock labeler score at the evaluations", "labeler score");
  labeler.x_min.reset();  // room for the error bars of episode 0
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunReport& r = runs[i];
    if (!r.ppo.episodes.empty()) {
      Series s = ppo_series(r, i, r.ppo.score, options);
      s.band = bucket_means(r.ppo.score_stderr, static_cast<std::size_t>(options.max_points), true);
      score.series.push_back(s);
      kl.series.push_back(ppo_series(r, i, r.ppo.kl, options));
      beta.series.push_back(ppo_series(r, i, r.ppo.kl_coef, options));
    }
    add_labeler_points(labeler, r, i);
  }
  add_kl_targets(kl, runs);
  std::vector<std::string> figures = {
      figure(score,
             "Mean score of each PPO batch (after the penalty for a missing truncate token); shaded: ± one "
             "standard error of the batch mean."),
      figure(kl,
             "Mean summed KL of each batch's responses to the reference policy; dashed: the adaptive "
             "controller's target."),
      figure(beta, "The KL coefficient used for each batch (adaptive runs move it toward the target KL).")};
  if (!labeler.points.empty()) {
    figures.push_back(figure(labeler,
                             "The mock labeler's score of the initial policy (episode 0), the policy at "
                             "the end of each round and the final policy, on the evaluation queries; bars: "
                             "± one standard error."));
  }
  return "<section id=\"ppo\"><h2>PPO</h2>\n" + join_figures(figures) + "</section>\n";
}

std::string reward_model_section(const std::vector<RunReport>& runs) {
  Chart accuracy;
  accuracy.id = "rm-accuracy";
  accuracy.title = "Reward model accuracy";
  accuracy.x_label = "training step";
  accuracy.y_label = "accuracy";
  accuracy.y_min = 0;
  accuracy.y_max = 1;
  accuracy.x_min = 0;
  Chart loss = accuracy;
  loss.id = "rm-loss";
  loss.title = "Reward model loss";
  loss.y_label = "loss";
  loss.y_min.reset();
  loss.y_max.reset();
  std::size_t colour = 0;
  std::set<int> chances;
  for (const RunReport& run : runs) {
    for (const RewardCurve& rm : run.reward_models) {
      const std::string name = run.reward_models.size() > 1 ? run.name + " " + rm.name : run.name;
      const std::string& color = chart::palette_color(colour++);
      add_reward_curves(accuracy, rm, name, color, rm.accuracy, rm.validation_accuracy);
      add_reward_curves(loss, rm, name, color, rm.loss, rm.validation_loss);
      if (rm.num_samples > 1) chances.insert(rm.num_samples);
      add_ceiling_line(accuracy, rm, name, color, runs.size() > 1 || run.reward_models.size() > 1);
    }
  }
  if (colour == 0) return "";
  for (int n : chances) accuracy.lines.push_back({1.0 / n, "chance (1/" + std::to_string(n) + ")", "#555"});
  const std::string caption =
      "Lines: training batches, a moving mean over 5% of the steps; dots: held-out (validation) comparisons. "
      "Dashed: chance, and the ceiling, the accuracy a perfect reward model would expect on the held-out labels "
      "(ties of the mock labeler's top score are broken at random, and its noise answers at random); labels "
      "from people have none.";
  return "<section id=\"reward-model\"><h2>Reward model</h2>\n" +
         join_figures({figure(accuracy, caption), figure(loss, caption)}) + "</section>\n";
}

std::string frontier_section(const std::vector<RunReport>& runs) {
  bool all_labeled = true, any = false;
  for (const RunReport& r : runs) {
    for (const FrontierPoint& p : frontier_points(r)) {
      any = true;
      all_labeled = all_labeled && !labeler_stats(p.eval).is_null();
    }
  }
  if (!any) return "";
  Chart c;
  c.id = "frontier";
  c.title = all_labeled ? "Mock labeler score against KL" : "Score against KL";
  c.x_label = "KL(π, ρ) of the policy (nats)";
  c.y_label = all_labeled ? "mock labeler score" : "score";
  std::set<std::tuple<double, double, std::string>> drawn;  // runs from one model share their initial point
  for (std::size_t i = 0; i < runs.size(); ++i) {
    Series path;
    path.name = runs[i].name;
    path.color = run_color(i);
    path.dashed = true;
    for (const FrontierPoint& p : frontier_points(runs[i])) {
      const Json y = all_labeled ? labeler_stats(p.eval) : p.eval.value("score", Json());
      const Json x = p.eval.value("kl", Json());
      path.x.push_back(mean_of(x));
      path.y.push_back(mean_of(y));
      if (!drawn.insert({mean_of(x), mean_of(y), p.label}).second) continue;
      c.points.push_back({mean_of(x), mean_of(y), stderr_of(x), stderr_of(y), p.label, run_color(i)});
    }
    if (!path.x.empty()) c.series.push_back(path);
  }
  const std::string caption =
      std::string("Each policy measured on the evaluation queries (the paper's figure 3): ") +
      (all_labeled ? "the mock labeler's score"
                   : "the score of each run's own reward (not comparable across reward "
                     "models)") +
      " against the KL to the initial policy; bars: ± one standard error. Dashed: a run's path from the initial "
      "policy through its rounds to the final policy.";
  return "<section id=\"frontier\"><h2>Reward against KL</h2>\n" +
         join_figures({figure(c, caption), "<div>" + frontier_table(runs) + "</div>\n"}) + "</section>\n";
}

}  // namespace rlhf::eval::report
