// Small raster charts written as PNG: loss curves during training and metric plots after it.
// No plotting library and no font files: everything is drawn here with the built-in font.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfgan {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// The i-th of ten distinct default colours (matplotlib's "tab10"); it cycles.
Rgb palette_color(size_t i);

struct Series {
  enum class Style { line, points };

  // Every member has an initializer so designated initialisation may leave any out under -Wextra.
  std::string label{};           // empty: not listed in the legend
  std::vector<double> x{}, y{};  // x empty: x is the index 0, 1, 2, ...
  std::optional<Rgb> color{};    // unset: palette_color(position in the series list)
  Style style = Style::line;
  double size = 2.0;     // line width, or dot diameter, in pixels
  double opacity = 1.0;  // below 1 lets dense scatters show density and raw curves sit behind averages
};

struct PlotOptions {
  std::string title{}, x_label{}, y_label{};
  int width = 800, height = 500;
  bool log_y = false;  // non-positive y values are skipped, like NaN
};

// Renders the series over axes with 1-2-5 ticks (decades for log_y), grid, tick numbers, axis
// labels, title and a legend in the emptiest corner, and writes an RGB PNG, creating parent
// directories. Points whose x or y is NaN or infinite leave a gap in their line.
// Throws Error naming the file when it cannot be written, or the series when x and y differ in size.
void write_plot_png(const std::string& path, const std::vector<Series>& series, const PlotOptions& options);

// Grouped bars: one group per category, one bar per series in each group, with optional
// interval whiskers. NaN values leave a gap. Values are drawn on [y_min, y_max].
struct BarSeries {
  std::string label{};
  std::vector<double> value{}, lo{}, hi{};  // lo/hi empty: no whiskers
};
struct BarChart {
  std::vector<std::string> categories{};
  std::vector<BarSeries> series{};
  double y_min = 0, y_max = 1;
};
void write_bar_chart_png(const std::string& path, const BarChart& chart, const PlotOptions& options);

// A directed graph as boxes and arrows, nodes in columns by depth (roots on the left); for
// acyclic graphs such as a causal model's. Edges are (from, to) node indices.
void write_graph_png(const std::string& path, const std::vector<std::string>& nodes,
                     const std::vector<std::pair<int, int>>& edges, const std::string& title);

// Centred moving average over `window` points (shrinking at the ends, so the output has the
// input's length and lines up with the same x). Non-finite values are left out of each mean;
// a window with none gives NaN.
std::vector<double> moving_average(const std::vector<double>& y, size_t window);

}  // namespace cfgan
