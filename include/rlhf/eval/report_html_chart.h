// A small SVG chart writer for the HTML report (`rlhf report`): line charts with nice ticks, axis labels,
// a legend, several series, optional shaded +-band, dashed horizontal reference lines, and labelled
// points with error bars (the reward-versus-KL frontier). The output is one self-contained <svg>
// element: no scripts, no fonts or images from elsewhere. All text is escaped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf::eval::chart {

// One line (and/or dots) of a chart. Points whose x or y is not finite are skipped (gaps).
struct Series {
  std::string name;  // legend entry; "" = not in the legend
  std::vector<double> x, y;
  std::vector<double> band;  // empty, or +-band[i] around y[i], drawn as a shaded area
  std::string color;         // CSS colour; "" = palette(index of the series)
  bool dashed = false;
  bool line = true;      // a polyline through the points
  bool markers = false;  // a dot at each point
};

// A point with a text label and optional error bars (0 = none).
struct LabeledPoint {
  double x = 0, y = 0, x_err = 0, y_err = 0;
  std::string label;
  std::string color;  // "" = palette(0)
};

// A dashed horizontal line across the plot (a target, a chance level), labelled at its right end.
struct ReferenceLine {
  double y = 0;
  std::string label;
  std::string color = "#555";
};

struct Chart {
  std::string id = "chart";  // unique within the page (the clip path is named after it)
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::vector<LabeledPoint> points;
  std::vector<ReferenceLine> lines;
  int width = 600, height = 340;
  std::optional<double> x_min, x_max, y_min, y_max;  // fixed ends of the axes; unset = from the data
};

// An axis: its domain [lo, hi] and the tick values (multiples of `step` inside the domain).
struct Axis {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> ticks;
};

// Ticks at multiples of a "nice" step (1, 2, 2.5 or 5 times a power of ten), the smallest step that
// gives at most `max_ticks` ticks in [lo, hi]. lo == hi is widened to show the value in the middle.
Axis nice_axis(double lo, double hi, int max_ticks);

// A tick label with as many decimals as `step` needs ("0.25", "-1", "2k" for 2000 when step >= 1000).
std::string format_tick(double value, double step);

// Text for XML/HTML content and attributes: & < > " ' escaped; control characters (other than tab,
// newline and carriage return) are not allowed in XML and become U+FFFD.
std::string escape_xml(std::string_view text);

// Fixed margins of the plot area (pixels). The top margin grows with the title and legend rows.
constexpr double kMarginLeft = 64, kMarginRight = 20, kMarginBottom = 46, kMarginTopBase = 12;
constexpr double kTitleHeight = 20, kLegendRowHeight = 16;

// Where the plot area lies and how data maps onto it.
struct Frame {
  double left = 0, top = 0, width = 0, height = 0;  // the plot area
  Axis x, y;
  double px(double value) const;  // left + (value - x.lo) / (x.hi - x.lo) * width
  double py(double value) const;  // top + height - (value - y.lo) / (y.hi - y.lo) * height
  int legend_rows = 0;            // rows of legend entries above the plot
};
Frame layout(const Chart& chart);

// The colours series get by default, in order.
const std::vector<std::string>& palette();
const std::string& palette_color(std::size_t index);

// The chart as one <svg> element. A chart without any finite point shows "no data".
std::string render_svg(const Chart& chart);

}  // namespace rlhf::eval::chart
