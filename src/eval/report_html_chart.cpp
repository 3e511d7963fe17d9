#include "rlhf/eval/report_html_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace rlhf::eval::chart {
namespace {

constexpr double kFontSize = 11;
constexpr double kCharWidth = 0.6 * kFontSize;  // an average glyph of a sans-serif font, for layout
constexpr double kSwatchWidth = 18, kLegendGap = 14;
// Presentation attributes rather than CSS, so that a chart copied out of the page looks the same.
const char* const kGrid = "class=\"grid\" stroke=\"#e4e4e4\"";
const char* const kTick = "class=\"tick\" fill=\"#444\"";
const char* const kLegend = "class=\"legend\" fill=\"#222\"";
const char* const kTitle = "class=\"title\" font-size=\"13\" font-weight=\"bold\" fill=\"#222\"";
const char* const kPointLabel = "class=\"plabel\" font-size=\"10.5\" fill=\"#222\"";
// A white outline under a label keeps it readable where it crosses a line.
const char* const kHalo = " paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\"";

bool finite(double v) {
  return std::isfinite(v);
}

// Coordinates with one decimal: enough for a screen, short in the file.
std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Width of a text in pixels (UTF-8 continuation bytes are not characters).
double text_width(const std::string& text) {
  double chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) == 0x80 ? 0 : 1;
  return chars * kCharWidth;
}

int decimals_of(double step) {
  for (int d = 0; d < 9; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 9;
}

// The finite extent of the data along one axis; {+inf, -inf} when there is none.
struct Extent {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    if (!finite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

void data_extents(const Chart& c, Extent& x, Extent& y) {
  for (const Series& s : c.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i])) continue;
      x.add(s.x[i]);
      y.add(s.y[i]);
      if (i < s.band.size() && finite(s.band[i])) {
        y.add(s.y[i] - s.band[i]);
        y.add(s.y[i] + s.band[i]);
      }
    }
  }
  for (const LabeledPoint& p : c.points) {
    if (!finite(p.x) || !finite(p.y)) continue;
    x.add(p.x - p.x_err);
    x.add(p.x + p.x_err);
    y.add(p.y - p.y_err);
    y.add(p.y + p.y_err);
  }
}

// The domain of one axis: fixed ends where given, else the data padded by `pad` of its range.
Axis make_axis(Extent e, std::optional<double> lo, std::optional<double> hi, double pad, int max_ticks) {
  if (e.empty()) e = {0, 1};
  const double range = e.hi - e.lo;
  double a = lo ? *lo : e.lo - pad * range;
  double b = hi ? *hi : e.hi + pad * range;
  Axis axis = nice_axis(a, b, max_ticks);
  if (a < b) {  // nice_axis widens only a degenerate domain
    axis.lo = a;
    axis.hi = b;
  }
  return axis;
}

bool has_data(const Chart& c) {
  Extent x, y;
  data_extents(c, x, y);
  return !x.empty();
}

struct LegendEntry {
  const Series* series;
  std::string color;
  double x = 0, y = 0;
};

// Legend entries laid out left to right from the plot's left edge, wrapping before the right margin.
std::vector<LegendEntry> legend_layout(const Chart& c, double top) {
  std::vector<LegendEntry> entries;
  double x = kMarginLeft;
  int row = 0;
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    if (s.name.empty()) continue;
    const double w = kSwatchWidth + 4 + text_width(s.name) + kLegendGap;
    if (x > kMarginLeft && x + w > c.width - kMarginRight) {
      x = kMarginLeft;
      ++row;
    }
    entries.push_back({&s, s.color.empty() ? palette_color(i) : s.color, x, top + row * kLegendRowHeight});
    x += w;
  }
  return entries;
}

void text(std::ostringstream& out, double x, double y, const std::string& s, const std::string& attrs) {
  out << "<text x=\"" << fmt(x) << "\" y=\"" << fmt(y) << "\"" << (attrs.empty() ? "" : " ") << attrs << ">"
      << escape_xml(s) << "</text>\n";
}

void line(std::ostringstream& out, double x1, double y1, double x2, double y2, const std::string& attrs) {
  out << "<line x1=\"" << fmt(x1) << "\" y1=\"" << fmt(y1) << "\" x2=\"" << fmt(x2) << "\" y2=\"" << fmt(y2) << "\" "
      << attrs << "/>\n";
}

void draw_legend(std::ostringstream& out, const Chart& c) {
  const double top = kMarginTopBase + (c.title.empty() ? 0 : kTitleHeight);
  for (const LegendEntry& e : legend_layout(c, top)) {
    const double mid = e.y + kLegendRowHeight / 2;
    if (e.series->line) {
      line(out, e.x, mid, e.x + kSwatchWidth, mid,
           "stroke=\"" + escape_xml(e.color) + "\" stroke-width=\"2.5\"" +
               (e.series->dashed ? " stroke-dasharray=\"5 3\"" : ""));
    }
    if (e.series->markers || !e.series->line) {
      out << "<circle cx=\"" << fmt(e.x + kSwatchWidth / 2) << "\" cy=\"" << fmt(mid) << "\" r=\"3.5\" fill=\""
          << escape_xml(e.color) << "\"/>\n";
    }
    text(out, e.x + kSwatchWidth + 4, mid + 4, e.series->name, kLegend);
  }
}

void draw_axes(std::ostringstream& out, const Chart& c, const Frame& f) {
  const double bottom = f.top + f.height;
  for (double t : f.y.ticks) {
    const double y = f.py(t);
    line(out, f.left, y, f.left + f.width, y, kGrid);
    text(out, f.left - 6, y + 4, format_tick(t, f.y.step), std::string("text-anchor=\"end\" ") + kTick);
  }
  for (double t : f.x.ticks) {
    const double x = f.px(t);
    line(out, x, f.top, x, bottom, kGrid);
    text(out, x, bottom + 16, format_tick(t, f.x.step), std::string("text-anchor=\"middle\" ") + kTick);
  }
  out << "<rect x=\"" << fmt(f.left) << "\" y=\"" << fmt(f.top) << "\" width=\"" << fmt(f.width) << "\" height=\""
      << fmt(f.height) << "\" fill=\"none\" stroke=\"#888\"/>\n";
  if (!c.x_label.empty())
    text(out, f.left + f.width / 2, c.height - 8, c.x_label, "text-anchor=\"middle\" fill=\"#222\"");
  if (!c.y_label.empty()) {
    const double cy = f.top + f.height / 2;
    out << "<text x=\"14\" y=\"" << fmt(cy) << "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " << fmt(cy)
        << ")\" fill=\"#222\">" << escape_xml(c.y_label) << "</text>\n";
  }
}

// Runs of consecutive finite points (a non-finite value breaks the line).
std::vector<std::vector<std::size_t>> finite_runs(const Series& s) {
  std::vector<std::vector<std::size_t>> runs(1);
  for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
    if (finite(s.x[i]) && finite(s.y[i])) {
      runs.back().push_back(i);
    } else if (!runs.back().empty()) {
      runs.emplace_back();
    }
  }
  if (runs.back().empty()) runs.pop_back();
  return runs;
}

void draw_band(std::ostringstream& out, const Series& s, const Frame& f, const std::string& color) {
  for (const auto& run : finite_runs(s)) {
    std::string upper, lower;
    for (std::size_t i : run) {
      const double b = i < s.band.size() && finite(s.band[i]) ? s.band[i] : 0;
      upper += fmt(f.px(s.x[i])) + "," + fmt(f.py(s.y[i] + b)) + " ";
    }
    for (auto it = run.rbegin(); it != run.rend(); ++it) {
      const double b = *it < s.band.size() && finite(s.band[*it]) ? s.band[*it] : 0;
      lower += fmt(f.px(s.x[*it])) + "," + fmt(f.py(s.y[*it] - b)) + " ";
    }
    out << "<polygon class=\"band\" points=\"" << upper << lower << "\" fill=\"" << escape_xml(color)
        << "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
  }
}

void draw_series(std::ostringstream& out, const Series& s, const Frame& f, const std::string& color) {
  if (!s.band.empty()) draw_band(out, s, f, color);
  for (const auto& run : finite_runs(s)) {
    if (s.line && run.size() > 1) {
      out << "<polyline points=\"";
      for (std::size_t i : run) out << fmt(f.px(s.x[i])) << "," << fmt(f.py(s.y[i])) << " ";
      out << "\" fill=\"none\" stroke=\"" << escape_xml(color) << "\" stroke-width=\"1.8\" stroke-linejoin=\"round\""
          << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
    }
    if (s.markers || !s.line || run.size() == 1) {
      // Dots on a line are small; dots alone (held-out values) stand out, outlined.
      const char* dot = s.line ? "\" r=\"3\"" : "\" r=\"4.5\" stroke=\"#fff\" stroke-width=\"1\"";
      for (std::size_t i : run) {
        out << "<circle cx=\"" << fmt(f.px(s.x[i])) << "\" cy=\"" << fmt(f.py(s.y[i])) << dot << " fill=\""
            << escape_xml(color) << "\"/>\n";
      }
    }
  }
}

struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// Data points of the chart's series that a box (pixels) would cover.
int points_under(const Chart& c, const Frame& f, const Box& box) {
  int n = 0;
  for (const Series& s : c.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i])) continue;
      const double x = f.px(s.x[i]), y = f.py(s.y[i]);
      n += x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1 ? 1 : 0;
    }
  }
  return n;
}

// A reference line's label: above or below the line, at its left end, right end or middle, wherever it
// hides the fewest data points (a chance level sits under early curves, a KL target under late ones).
void draw_reference_label(std::ostringstream& out, const Chart& c, const Frame& f, const ReferenceLine& r) {
  const double w = text_width(r.label) * 10 / kFontSize, y = f.py(r.y);
  const double xs[] = {f.left + 6, f.left + f.width - 6 - w, f.left + (f.width - w) / 2};
  const double baselines[] = {y - 4, y + 12};
  double best_x = xs[0], best_y = baselines[0];
  int best = -1;
  for (double x : xs) {
    for (double b : baselines) {
      const int n = points_under(c, f, {x - 2, b - 11, x + w + 2, b + 3});
      if (best < 0 || n < best) best = n, best_x = x, best_y = b;
    }
  }
  text(out, best_x, best_y, r.label, "class=\"note\" font-size=\"10\" fill=\"" + escape_xml(r.color) + "\"" + kHalo);
}

// The lines go under the series, their labels over them.
void draw_reference_lines(std::ostringstream& out, const Chart& c, const Frame& f, bool labels) {
  for (const ReferenceLine& r : c.lines) {
    if (!finite(r.y) || r.y < f.y.lo || r.y > f.y.hi) continue;
    const double y = f.py(r.y);
    if (!labels) {
      line(out, f.left, y, f.left + f.width, y,
           "stroke=\"" + escape_xml(r.color) + "\" stroke-width=\"1.2\" stroke-dasharray=\"7 4\"");
    } else if (!r.label.empty()) {
      draw_reference_label(out, c, f, r);
    }
  }
}

// A label beside its point: above right of it (clear of its error bars), else below, else further
// up or down until it overlaps no earlier label; left of the point near the right edge.
void draw_point_label(std::ostringstream& out, const Chart& c, double x, double y, const std::string& label,
                      std::vector<Box>& placed) {
  const double w = text_width(label);
  const bool left = x + 6 + w > c.width - 2;
  const double x0 = left ? x - 6 - w : x + 6;
  const double baselines[] = {-7, 17, -19, 29, -31, 41, -43, 53};
  Box box{};
  double baseline = y;
  for (double dy : baselines) {
    baseline = y + dy;
    box = {x0, baseline - 10, x0 + w, baseline + 2};
    if (std::none_of(placed.begin(), placed.end(), [&](const Box& b) { return b.overlaps(box); })) break;
  }
  placed.push_back(box);
  text(out, left ? x - 6 : x + 6, baseline, label,
       std::string(kPointLabel) + kHalo + (left ? " text-anchor=\"end\"" : ""));
}

void draw_points(std::ostringstream& out, const Chart& c, const Frame& f) {
  std::vector<Box> placed;
  for (const LabeledPoint& p : c.points) {
    if (!finite(p.x) || !finite(p.y)) continue;
    const std::string color = escape_xml(p.color.empty() ? palette_color(0) : p.color);
    const std::string stroke = "stroke=\"" + color + "\" stroke-width=\"1.3\"";
    const double x = f.px(p.x), y = f.py(p.y);
    if (p.y_err > 0) {
      const double y0 = f.py(p.y - p.y_err), y1 = f.py(p.y + p.y_err);
      line(out, x, y0, x, y1, stroke);
      line(out, x - 4, y0, x + 4, y0, stroke);
      line(out, x - 4, y1, x + 4, y1, stroke);
    }
    if (p.x_err > 0) {
      const double x0 = f.px(p.x - p.x_err), x1 = f.px(p.x + p.x_err);
      line(out, x0, y, x1, y, stroke);
      line(out, x0, y - 4, x0, y + 4, stroke);
      line(out, x1, y - 4, x1, y + 4, stroke);
    }
    out << "<circle cx=\"" << fmt(x) << "\" cy=\"" << fmt(y) << "\" r=\"4.5\" fill=\"" << color
        << "\" stroke=\"#fff\" stroke-width=\"1\"/>\n";
    if (!p.label.empty()) draw_point_label(out, c, x, y, p.label, placed);
  }
}

}  // namespace

Axis nice_axis(double lo, double hi, int max_ticks) {
  if (!finite(lo) || !finite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {
    const double d = lo != 0 ? std::fabs(lo) * 0.1 : 1.0;
    lo -= d;
    hi += d;
  }
  max_ticks = std::max(max_ticks, 2);
  const double mag = std::pow(10.0, std::floor(std::log10((hi - lo) / max_ticks)));
  Axis axis{lo, hi, 0, {}};
  for (double m : {mag / 10, mag, mag * 10, mag * 100}) {
    for (double factor : {1.0, 2.0, 2.5, 5.0}) {
      const double step = m * factor;
      const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
      if (last - first + 1 > max_ticks) continue;
      axis.step = step;
      for (double i = first; i <= last; i += 1) axis.ticks.push_back(i == 0 ? 0.0 : i * step);
      return axis;
    }
  }
  axis.step = hi - lo;
  axis.ticks = {lo, hi};
  return axis;
}

std::string format_tick(double value, double step) {
  const char* suffix = "";
  if (step >= 1e6) {
    value /= 1e6, step /= 1e6, suffix = "M";
  } else if (step >= 1e3) {
    value /= 1e3, step /= 1e3, suffix = "k";
  }
  const int d = decimals_of(step);
  if (std::fabs(value) < 0.5 * std::pow(10.0, -d)) return "0";  // also never "-0.0"
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%s", d, value, suffix);
  return buf;
}

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
          out += "\xEF\xBF\xBD";
        } else {
          out += ch;
        }
    }
  }
  return out;
}

double Frame::px(double value) const {
  return left + (value - x.lo) / (x.hi - x.lo) * width;
}

double Frame::py(double value) const {
  return top + height - (value - y.lo) / (y.hi - y.lo) * height;
}

Frame layout(const Chart& chart) {
  Frame f;
  const double legend_top = kMarginTopBase + (chart.title.empty() ? 0 : kTitleHeight);
  const auto entries = legend_layout(chart, legend_top);
  f.legend_rows = entries.empty() ? 0 : static_cast<int>((entries.back().y - legend_top) / kLegendRowHeight) + 1;
  f.left = kMarginLeft;
  f.top = legend_top + f.legend_rows * kLegendRowHeight + (f.legend_rows > 0 ? 6 : 0);
  f.width = std::max(10.0, chart.width - kMarginLeft - kMarginRight);
  f.height = std::max(10.0, chart.height - f.top - kMarginBottom);
  Extent x, y;
  data_extents(chart, x, y);
  for (const ReferenceLine& r : chart.lines) y.add(r.y);
  // Curves fill the width; labelled points (the frontier) get room for their labels and error bars.
  // and dots at the ends are not cut in half by the plot's edge.
  const bool dots = std::any_of(chart.series.begin(), chart.series.end(), [](const Series& s) { return !s.line; });
  f.x = make_axis(x, chart.x_min, chart.x_max,
                  !chart.points.empty() ? 0.08
                  : dots                ? 0.03
                                        : 0.0,
                  std::max(3, static_cast<int>(f.width / 70)));
  f.y = make_axis(y, chart.y_min, chart.y_max, 0.06, std::max(3, static_cast<int>(f.height / 40)));
  return f;
}

const std::vector<std::string>& palette() {
  static const std::vector<std::string> colors = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                  "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
  return colors;
}

const std::string& palette_color(std::size_t index) {
  return palette()[index % palette().size()];
}

std::string render_svg(const Chart& c) {
  const Frame f = layout(c);
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" << escape_xml(c.id) << "\" class=\"chart\" width=\""
      << c.width << "\" height=\"" << c.height << "\" viewBox=\"0 0 " << c.width << " " << c.height
      << "\" role=\"img\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"" << kFontSize
      << "\">\n";
  if (!c.title.empty()) out << "<title>" << escape_xml(c.title) << "</title>\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  if (!c.title.empty()) text(out, kMarginLeft, kMarginTopBase + 13, c.title, kTitle);
  draw_legend(out, c);
  draw_axes(out, c, f);
  const std::string clip = escape_xml(c.id) + "-clip";
  out << "<clipPath id=\"" << clip << "\"><rect x=\"" << fmt(f.left) << "\" y=\"" << fmt(f.top) << "\" width=\""
      << fmt(f.width) << "\" height=\"" << fmt(f.height) << "\"/></clipPath>\n";
  out << "<g clip-path=\"url(#" << clip << ")\">\n";
  draw_reference_lines(out, c, f, /*labels=*/false);
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    draw_series(out, s, f, s.color.empty() ? palette_color(i) : s.color);
  }
  out << "</g>\n";
  draw_reference_lines(out, c, f, /*labels=*/true);
  draw_points(out, c, f);
  if (!has_data(c)) {
    text(out, f.left + f.width / 2, f.top + f.height / 2, "no data",
         "text-anchor=\"middle\" class=\"note\" fill=\"#888\" font-size=\"14\"");
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace rlhf::eval::chart
