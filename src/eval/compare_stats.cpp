// Win rates of a head-to-head comparison: counts, the binomial standard error and the Wilson interval
// (the one rlhf agreement uses), and the automatic judge's paired score statistics.
#include <cmath>

#include "rlhf/eval/compare.h"
#include "rlhf/labelers/agreement.h"
#include "rlhf/util/error.h"

namespace rlhf::eval {

WinRate win_rate(std::size_t wins, std::size_t ties, std::size_t losses) {
  WinRate w;
  w.wins = wins;
  w.ties = ties;
  w.losses = losses;
  const double n = static_cast<double>(w.compared());
  if (w.compared() == 0) throw Error("win rate: no comparisons to count");
  w.rate = (static_cast<double>(wins) + 0.5 * static_cast<double>(ties)) / n;
  w.stderr_ = std::sqrt(w.rate * (1.0 - w.rate) / n);
  const labelers::Interval ci = labelers::wilson_interval(w.rate, n);
  w.ci_low = ci.low;
  w.ci_high = ci.high;
  return w;
}

nlohmann::ordered_json WinRate::to_json() const {
  return {{"rate", rate},           {"stderr", stderr_}, {"ci95_low", ci_low}, {"ci95_high", ci_high},
          {"compared", compared()}, {"wins", wins},      {"ties", ties},       {"losses", losses}};
}

JudgeVerdict judge_scores(const std::vector<double>& a, const std::vector<double>& b, std::size_t samples_per_query) {
  if (a.size() != b.size()) {
    throw Error("judge: " + std::to_string(a.size()) + " scores of A but " + std::to_string(b.size()) + " of B");
  }
  if (a.empty() || samples_per_query == 0 || a.size() % samples_per_query != 0) {
    throw Error("judge: " + std::to_string(a.size()) + " scores are not a positive multiple of " +
                std::to_string(samples_per_query) + " samples per query");
  }
  std::size_t wins = 0, ties = 0, losses = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
      throw Error("judge: the score of row " + std::to_string(i) + " is not finite (A " + std::to_string(a[i]) +
                  ", B " + std::to_string(b[i]) + ")");
    }
    if (a[i] > b[i]) ++wins;
    if (a[i] == b[i]) ++ties;
    if (a[i] < b[i]) ++losses;
  }
  JudgeVerdict v;
  v.win = win_rate(wins, ties, losses);
  v.score_a = stats_of(a);
  v.score_b = stats_of(b);
  v.samples_per_query = samples_per_query;
  v.queries = a.size() / samples_per_query;
  std::vector<double> difference(v.queries, 0.0);  // per query: mean over draws of a - b
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference[i / samples_per_query] += (a[i] - b[i]) / static_cast<double>(samples_per_query);
  }
  v.difference = stats_of(difference);
  return v;
}

nlohmann::ordered_json JudgeVerdict::to_json() const {
  nlohmann::ordered_json j;
  j["queries"] = queries;
  j["samples_per_query"] = samples_per_query;
  j["win_rate_a"] = win.to_json();
  j["score_a"] = eval::to_json(score_a);
  j["score_b"] = eval::to_json(score_b);
  j["score_difference"] = eval::to_json(difference);
  j["rules"] =
      "pairs (A's and B's k-th response to a query); a higher score is a win, an equal one a tie counting half; "
      "score_difference is per query (mean over draws of A - B) with its paired standard error over queries";
  return j;
}

nlohmann::ordered_json PeopleVerdict::to_json() const {
  nlohmann::ordered_json j;
  j["questions"] = questions;
  j["answered"] = answered;
  j["win_rate_a"] = win.to_json();
  j["rules"] =
      "choosing a sample of A is a win for A, of B a loss; a chosen text that both policies produced in that "
      "question is a tie counting half; skipped or unanswered questions do not count";
  return j;
}

}  // namespace rlhf::eval
