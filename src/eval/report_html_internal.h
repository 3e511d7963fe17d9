// Pieces of the HTML report shared by its source files (not a public interface).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/eval/report_html.h"
#include "rlhf/eval/report_html_chart.h"

namespace rlhf::eval::report {

using Json = nlohmann::ordered_json;

// HTML text (the same escaping as the charts').
inline std::string html(const std::string& s) {
  return chart::escape_xml(s);
}

// The colour of run `index` in every chart of the page.
inline const std::string& run_color(std::size_t index) {
  return chart::palette_color(index);
}

// j[a][b]... or null when a key is missing or a level is not an object.
Json at(const Json& j, std::initializer_list<const char*> keys);

// "1.234" with `digits` decimals; "-" for a non-finite value.
std::string num(double v, int digits = 3);

// "mean ± stderr" of an eval Stats object ({"mean", "stderr", ...}); "-" when absent.
std::string mean_pm(const Json& stats, int digits = 3);

// The episodes PPO had done when round `round` of `rounds` ended (the policy its eval measured).
double round_episodes(const RunReport& run, int round);

// The labelled score of an evaluation: the mock labeler's when there is one, else null.
Json labeler_stats(const Json& eval);

// Sections of the page, each an HTML fragment ("" when there is nothing to show).
std::string ppo_section(const std::vector<RunReport>& runs, const ReportOptions& options);
std::string reward_model_section(const std::vector<RunReport>& runs);
std::string frontier_section(const std::vector<RunReport>& runs);

// A figure: the chart and a caption under it.
std::string figure(const chart::Chart& c, const std::string& caption);

}  // namespace rlhf::eval::report
