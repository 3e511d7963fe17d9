// The SVG chart writer of `rlhf report`: ticks, tick labels, escaping, and where points land, all
// computed by hand from the documented margins.
#include "rlhf/eval/report_html_chart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

namespace rlhf::eval::chart {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void expect_ticks(const Axis& a, std::vector<double> expected) {
  ASSERT_EQ(a.ticks.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(a.ticks[i], expected[i], 1e-12) << i;
}

TEST(ReportChartTicks, SmallestNiceStepWithinTheTickBudget) {
  // 0..9.3, at most 6 ticks: steps 1 (10 ticks) too many, 2 gives 0, 2, 4, 6, 8.
  Axis a = nice_axis(0, 9.3, 6);
  EXPECT_DOUBLE_EQ(a.step, 2);
  expect_ticks(a, {0, 2, 4, 6, 8});
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_DOUBLE_EQ(a.hi, 9.3);
  // 0.13..0.47, at most 5: 0.05 gives 0.15..0.45 = 7 ticks, 0.1 gives 0.2, 0.3, 0.4.
  a = nice_axis(0.13, 0.47, 5);
  EXPECT_NEAR(a.step, 0.1, 1e-15);
  expect_ticks(a, {0.2, 0.3, 0.4});
  // Episodes 0..6400, at most 8: 500 gives 13 ticks, 1000 gives 0..6000.
  a = nice_axis(0, 6400, 8);
  EXPECT_DOUBLE_EQ(a.step, 1000);
  expect_ticks(a, {0, 1000, 2000, 3000, 4000, 5000, 6000});
  // 2.5 is nice too: 0..10 with at most 5 ticks: 2 gives 6, 2.5 gives 0, 2.5, 5, 7.5, 10.
  a = nice_axis(0, 10, 5);
  EXPECT_DOUBLE_EQ(a.step, 2.5);
  expect_ticks(a, {0, 2.5, 5, 7.5, 10});
}

TEST(ReportChartTicks, ConstantDataIsWidenedAroundItsValue) {
  // beta fixed at 0.1: 0.09..0.11, ticks every 0.005 (0.0025 would give 9).
  Axis a = nice_axis(0.1, 0.1, 5);
  EXPECT_NEAR(a.lo, 0.09, 1e-15);
  EXPECT_NEAR(a.hi, 0.11, 1e-15);
  expect_ticks(a, {0.09, 0.095, 0.1, 0.105, 0.11});
  a = nice_axis(0, 0, 5);  // all zero: -1..1
  EXPECT_DOUBLE_EQ(a.lo, -1);
  EXPECT_DOUBLE_EQ(a.hi, 1);
  a = nice_axis(NAN, 1, 5);  // nothing finite: 0..1
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_DOUBLE_EQ(a.hi, 1);
}

TEST(ReportChartTicks, LabelsHaveTheStepsDecimalsAndShortThousands) {
  EXPECT_EQ(format_tick(0.25, 0.25), "0.25");
  EXPECT_EQ(format_tick(0.30000000000000004, 0.1), "0.3");
  EXPECT_EQ(format_tick(-1, 0.5), "-1.0");
  EXPECT_EQ(format_tick(-1e-17, 0.1), "0");  // zero is "0", never "-0.0"
  EXPECT_EQ(format_tick(0, 1000), "0");
  EXPECT_EQ(format_tick(2000, 1000), "2k");
  EXPECT_EQ(format_tick(2500, 500), "2500");
  EXPECT_EQ(format_tick(7500, 2500), "7.5k");
  EXPECT_EQ(format_tick(3e6, 1e6), "3M");
  EXPECT_EQ(format_tick(12, 2), "12");
}

TEST(ReportChartText, EscapesMarkupQuotesAndControlCharacters) {
  EXPECT_EQ(escape_xml("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(escape_xml("a\tb\nc"), "a\tb\nc");
  EXPECT_EQ(escape_xml(std::string("x\x01y\x7f", 4)), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(escape_xml("caf\xC3\xA9 \xE2\x86\x92"), "caf\xC3\xA9 \xE2\x86\x92");  // UTF-8 kept
}

// 600 x 340, no title, no legend: the plot is [64, 580] x [12, 294] (margins 64, 20, 12, 46).
Chart unit_chart() {
  Chart c;
  c.x_min = 0, c.x_max = 10, c.y_min = 0, c.y_max = 1;
  return c;
}

TEST(ReportChartLayout, HandComputedCoordinates) {
  Chart c = unit_chart();
  Series s;
  s.x = {2.5, 5};
  s.y = {0.25, 0.5};
  c.series.push_back(s);
  const Frame f = layout(c);
  EXPECT_DOUBLE_EQ(f.left, 64);
  EXPECT_DOUBLE_EQ(f.top, 12);
  EXPECT_DOUBLE_EQ(f.width, 516);
  EXPECT_DOUBLE_EQ(f.height, 282);
  // x 5 of 0..10 -> 64 + 516 / 2 = 322; y 0.5 -> 12 + 282 - 141 = 153.
  // x 2.5 -> 64 + 129 = 193; y 0.25 -> 12 + 282 - 70.5 = 223.5.
  EXPECT_DOUBLE_EQ(f.px(5), 322);
  EXPECT_DOUBLE_EQ(f.py(0.5), 153);
  const std::string svg = render_svg(c);
  EXPECT_THAT(svg, HasSubstr("<polyline points=\"193.0,223.5 322.0,153.0 \""));
  EXPECT_THAT(svg, HasSubstr("viewBox=\"0 0 600 340\""));
  // Ticks 0, 2, 4, 6, 8, 10 (516 px allow 7); tick 4 at 64 + 206.4 = 270.4, labelled under the plot.
  EXPECT_THAT(svg, HasSubstr("<text x=\"270.4\" y=\"310.0\" text-anchor=\"middle\" class=\"tick\""));
  EXPECT_THAT(svg, Not(HasSubstr("no data")));
}

TEST(ReportChartLayout, TitleAndLegendPushThePlotDown) {
  Chart c = unit_chart();
  c.title = "Score";
  Series s;
  s.name = "run a";
  s.x = {1};
  s.y = {0.5};
  c.series.push_back(s);
  // 12 + 20 (title) + 16 (one legend row) + 6 = 54.
  EXPECT_DOUBLE_EQ(layout(c).top, 54);
  EXPECT_EQ(layout(c).legend_rows, 1);
  for (int i = 0; i < 6; ++i) {
    s.name = "a rather long run name " + std::to_string(i);
    c.series.push_back(s);
  }
  EXPECT_GE(layout(c).legend_rows, 2);  // entries wrap before the right margin
  EXPECT_EQ(layout(c).top, 12 + 20 + layout(c).legend_rows * 16 + 6);
}

TEST(ReportChartSvg, NamesAndTitlesAreEscaped) {
  Chart c = unit_chart();
  c.title = "KL < 4 & \"beta\"";
  c.x_label = "<x>";
  Series s;
  s.name = "<script>run</script>";
  s.x = {1, 2};
  s.y = {0.1, 0.2};
  c.series.push_back(s);
  c.points.push_back({1, 0.5, 0, 0, "a & b", ""});
  const std::string svg = render_svg(c);
  EXPECT_THAT(svg, Not(HasSubstr("<script>")));
  EXPECT_THAT(svg, HasSubstr("&lt;script&gt;run&lt;/script&gt;"));
  EXPECT_THAT(svg, HasSubstr("KL &lt; 4 &amp; &quot;beta&quot;"));
  EXPECT_THAT(svg, HasSubstr("&lt;x&gt;"));
  EXPECT_THAT(svg, HasSubstr(">a &amp; b</text>"));
}

TEST(ReportChartSvg, BandsGapsReferenceLinesAndErrorBars) {
  Chart c = unit_chart();
  Series s;
  s.x = {0, 2, 4, 6, 8};
  s.y = {0.5, 0.5, NAN, 0.5, 0.5};  // a gap: two lines
  s.band = {0.1, 0.1, 0.1, 0.1, 0.1};
  c.series.push_back(s);
  c.lines.push_back({0.25, "target", "#555"});
  c.points.push_back({5, 0.5, 1, 0.1, "p", "#123456"});
  const std::string svg = render_svg(c);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<polygon class=\"band\""), 2u);
  // The band's upper edge at y 0.6 -> 12 + 282 * 0.4 = 124.8, over x 0 -> 64.
  EXPECT_THAT(svg, HasSubstr("points=\"64.0,124.8 "));
  // Target 0.25 -> y 223.5, dashed across the plot.
  EXPECT_THAT(svg, HasSubstr("<line x1=\"64.0\" y1=\"223.5\" x2=\"580.0\" y2=\"223.5\" stroke=\"#555\""));
  // Error bars of (5 +- 1, 0.5 +- 0.1): vertical 181.2..124.8 at x 322, horizontal 270.4..373.6 at y 153.
  EXPECT_THAT(svg, HasSubstr("<line x1=\"322.0\" y1=\"181.2\" x2=\"322.0\" y2=\"124.8\""));
  EXPECT_THAT(svg, HasSubstr("<line x1=\"270.4\" y1=\"153.0\" x2=\"373.6\" y2=\"153.0\""));
  EXPECT_THAT(svg, HasSubstr("<circle cx=\"322.0\" cy=\"153.0\" r=\"4.5\" fill=\"#123456\""));
}

TEST(ReportChartSvg, ChartWithoutDataSaysSo) {
  Chart c;
  Series s;
  s.x = {1, 2};
  s.y = {NAN, INFINITY};
  c.series.push_back(s);
  const std::string svg = render_svg(c);
  EXPECT_THAT(svg, HasSubstr(">no data</text>"));
  EXPECT_EQ(count(svg, "<polyline"), 0u);
}

TEST(ReportChartSvg, EachChartClipsToItsOwnId) {
  Chart c = unit_chart();
  c.id = "ppo-kl";
  const std::string svg = render_svg(c);
  EXPECT_THAT(svg, HasSubstr("<clipPath id=\"ppo-kl-clip\">"));
  EXPECT_THAT(svg, HasSubstr("clip-path=\"url(#ppo-kl-clip)\""));
}

}  // namespace
}  // namespace rlhf::eval::chart
