#include "engine/io/plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>
#include <tuple>

#include "engine/error.h"
#include "engine/io/bitmap_font.h"
#include "engine/io/image.h"

namespace cfgan {
namespace {

constexpr Rgb background{255, 255, 255};
constexpr Rgb grid_color{228, 228, 228};
constexpr Rgb frame_color{64, 64, 64};
constexpr Rgb text_color{34, 34, 34};
constexpr Rgb legend_border{200, 200, 200};

// Keeps thick lines and dots at the extremes of the data off the frame.
constexpr double range_padding = 0.04;

struct Rect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // half-open: [x0, x1) x [y0, y1)
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};

// An RGB raster; every draw call clips to the image.
class Canvas {
 public:
  Canvas(int width, int height) : width_(width), height_(height), rgb_(size_t(width) * height * 3, 255) {}

  int width() const { return width_; }
  int height() const { return height_; }
  const uint8_t* data() const { return rgb_.data(); }

  void blend(int x, int y, Rgb c, double alpha) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_ || alpha <= 0) return;
    uint8_t* p = &rgb_[(size_t(y) * width_ + x) * 3];
    const double a = std::min(alpha, 1.0);
    p[0] = static_cast<uint8_t>(std::lround(p[0] + (c.r - p[0]) * a));
    p[1] = static_cast<uint8_t>(std::lround(p[1] + (c.g - p[1]) * a));
    p[2] = static_cast<uint8_t>(std::lround(p[2] + (c.b - p[2]) * a));
  }

  void fill(Rect r, Rgb c) {
    for (int y = r.y0; y < r.y1; ++y)
      for (int x = r.x0; x < r.x1; ++x) blend(x, y, c, 1.0);
  }

  void outline(Rect r, Rgb c) {
    fill({r.x0, r.y0, r.x1, r.y0 + 1}, c);
    fill({r.x0, r.y1 - 1, r.x1, r.y1}, c);
    fill({r.x0, r.y0, r.x0 + 1, r.y1}, c);
    fill({r.x1 - 1, r.y0, r.x1, r.y1}, c);
  }

  // (x, y) is the top-left of the text box; `upward` turns the text 90 degrees counter-clockwise
  // (for the y-axis label), keeping (x, y) the top-left of the turned box.
  void text(int x, int y, std::string_view s, int scale, Rgb c, bool upward = false) {
    const int length = text_width(s, scale);
    for (size_t i = 0; i < s.size(); ++i)
      for (int gy = 0; gy < glyph_height; ++gy)
        for (int gx = 0; gx < glyph_width; ++gx) {
          if (!glyph_pixel(s[i], gx, gy)) continue;
          const int u = (static_cast<int>(i) * glyph_advance + gx) * scale, v = gy * scale;
          const Rect cell = upward ? Rect{x + v, y + length - u - scale, x + v + scale, y + length - u}
                                   : Rect{x + u, y + v, x + u + scale, y + v + scale};
          fill(cell, c);
        }
  }

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;
};

// How much of each pixel one series covers, so overlapping segments of the same series do not
// darken their joints; the series is blended onto the canvas once, at the end.
class Coverage {
 public:
  Coverage(int width, Rect clip) : width_(width), clip_(clip), alpha_(size_t(width) * clip.y1, 0.0f) {}

  // A segment with round caps, `width` pixels thick, anti-aliased by distance to its centre line;
  // a zero-length segment is a dot of diameter `width`.
  void stroke(double ax, double ay, double bx, double by, double width) {
    const double half = width / 2, reach = half + 1;
    const int x0 = std::max(clip_.x0, static_cast<int>(std::floor(std::min(ax, bx) - reach)));
    const int x1 = std::min(clip_.x1, static_cast<int>(std::ceil(std::max(ax, bx) + reach)));
    const int y0 = std::max(clip_.y0, static_cast<int>(std::floor(std::min(ay, by) - reach)));
    const int y1 = std::min(clip_.y1, static_cast<int>(std::ceil(std::max(ay, by) + reach)));
    const double dx = bx - ax, dy = by - ay, length2 = dx * dx + dy * dy;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const double px = x + 0.5 - ax, py = y + 0.5 - ay;
        const double t = length2 > 0 ? std::clamp((px * dx + py * dy) / length2, 0.0, 1.0) : 0.0;
        const double distance = std::hypot(px - t * dx, py - t * dy);
        const auto a = static_cast<float>(std::clamp(half + 0.5 - distance, 0.0, 1.0));
        float& cell = alpha_[size_t(y) * width_ + x];
        cell = std::max(cell, a);
      }
  }

  // Blends the covered pixels onto `canvas` and records them in `busy` (for legend placement),
  // then clears itself for the next series.
  void composite(Canvas& canvas, Rgb c, double opacity, std::vector<float>& busy) {
    for (int y = clip_.y0; y < clip_.y1; ++y)
      for (int x = clip_.x0; x < clip_.x1; ++x) {
        float& cell = alpha_[size_t(y) * width_ + x];
        if (cell == 0) continue;
        const double a = cell * opacity;
        canvas.blend(x, y, c, a);
        busy[size_t(y) * width_ + x] = std::max(busy[size_t(y) * width_ + x], static_cast<float>(a));
        cell = 0;
      }
  }

 private:
  int width_;
  Rect clip_;
  std::vector<float> alpha_;
};

// ---- axes and ticks ----

struct Tick {
  double position;  // in axis units: the value, or log10 of it on a log axis
  std::string label;
};

// Maps axis units to pixels; on a log axis the units are log10 of the data.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double pixel_lo = 0, pixel_hi = 1;  // pixel coordinates of lo and hi (y runs upward, so reversed)

  double unit(double value) const { return log ? std::log10(value) : value; }
  double pixel_of_unit(double u) const { return pixel_lo + (u - lo) / (hi - lo) * (pixel_hi - pixel_lo); }
  double pixel(double value) const { return pixel_of_unit(unit(value)); }
  bool accepts(double value) const { return std::isfinite(value) && (!log || value > 0); }
};

// "2e-05" -> "2e-5", "1e+06" -> "1e6": shorter tick labels.
std::string tidy_exponent(std::string s) {
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  exponent.erase(0, exponent.find_first_not_of("+-0"));
  return mantissa + "e" + (negative ? "-" : "") + (exponent.empty() ? "0" : exponent);
}

std::string format(const char* spec, int precision, double value) {
  std::array<char, 64> buffer{};
  std::snprintf(buffer.data(), buffer.size(), spec, precision, value);
  return buffer.data();
}

// A 1-2-5 step is mantissa[index] * 10^exponent; stepping by index avoids rounding drift.
struct NiceStep {
  static constexpr std::array<double, 3> mantissa{1, 2, 5};
  int index = 0, exponent = 0;

  double value() const { return mantissa[index] * std::pow(10.0, exponent); }
  NiceStep next() const { return index == 2 ? NiceStep{0, exponent + 1} : NiceStep{index + 1, exponent}; }
  static NiceStep at_least(double v) {
    NiceStep s{0, static_cast<int>(std::floor(std::log10(v)))};
    while (s.value() < v * (1 - 1e-9)) s = s.next();
    return s;
  }
};

// Fixed notation with as many decimals as the step needs; scientific for very large or small
// ticks, with as many mantissa digits as this value needs to show the step.
std::string linear_label(double value, NiceStep step, double magnitude) {
  if (value == 0) return "0";
  if (step.exponent >= -4 && magnitude < 1e6) return format("%.*f", std::max(0, -step.exponent), value);
  const int digits = static_cast<int>(std::floor(std::log10(std::abs(value)))) - step.exponent;
  return tidy_exponent(format("%.*e", std::max(0, digits), value));
}

// Ticks at multiples of the smallest 1-2-5 step that puts them `min_gap` pixels apart and leaves
// as much between neighbouring labels; `label_extent` measures a label along the axis.
template <typename Extent>
std::vector<Tick> linear_ticks(double lo, double hi, double length_px, int min_gap, Extent label_extent) {
  const double magnitude = std::max(std::abs(lo), std::abs(hi));
  for (NiceStep step = NiceStep::at_least((hi - lo) / std::max(2.0, length_px / min_gap));; step = step.next()) {
    const double s = step.value();
    std::vector<Tick> ticks;
    int widest = 0;
    for (auto k = static_cast<int64_t>(std::ceil(lo / s)); k * s <= hi; ++k) {
      ticks.push_back({k * s, linear_label(k * s, step, magnitude)});
      widest = std::max(widest, label_extent(ticks.back().label));
    }
    if (s / (hi - lo) * length_px >= widest + min_gap) return ticks;
  }
}

// Decades (every n-th when crowded), with 2x and 5x added when decades are far apart; an axis
// spanning less than a decade gets linear ticks on the values instead.
template <typename Extent>
std::vector<Tick> log_ticks(double lo, double hi, double length_px, int min_gap, Extent label_extent) {
  std::vector<Tick> ticks;
  if (hi - lo < 1) {
    for (const Tick& t : linear_ticks(std::pow(10.0, lo), std::pow(10.0, hi), length_px, min_gap, label_extent))
      if (t.position > 0) ticks.push_back({std::log10(t.position), t.label});
    return ticks;
  }
  const double decade_px = length_px / (hi - lo);
  const int every = std::max(1, static_cast<int>(std::ceil(min_gap / decade_px)));
  const bool fill_in = decade_px >= 3 * min_gap;
  for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e)
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1 ? !fill_in : e % every != 0) continue;
      const double u = e + std::log10(m);
      if (u >= lo && u <= hi) ticks.push_back({u, tidy_exponent(format("%.*g", 6, m * std::pow(10.0, e)))});
    }
  return ticks;
}

// ---- data ranges ----

double x_at(const Series& s, size_t i) { return s.x.empty() ? static_cast<double>(i) : s.x[i]; }

// Range of the accepted values in axis units, padded; [0, 1] padded when there are none.
std::pair<double, double> axis_range(const std::vector<Series>& series, bool use_y, const Axis& axis,
                                     const Axis& other) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series)
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double x = x_at(s, i), y = s.y[i];
      if (!other.accepts(use_y ? x : y) || !axis.accepts(use_y ? y : x)) continue;
      const double u = axis.unit(use_y ? y : x);
      lo = std::min(lo, u);
      hi = std::max(hi, u);
    }
  if (lo > hi) lo = 0, hi = 1;
  if (lo == hi) {  // a constant series: open a window around it rather than divide by zero
    const double half = axis.log ? 0.5 : (lo != 0 ? std::abs(lo) * 0.1 : 1.0);
    lo -= half;
    hi += half;
  }
  const double pad = (hi - lo) * range_padding;
  return {lo - pad, hi + pad};
}

// ---- drawing the parts ----

void draw_series(Canvas& canvas, const Series& s, Rgb c, const Axis& xa, const Axis& ya, Coverage& coverage,
                 std::vector<float>& busy) {
  const size_t n = s.y.size();
  auto valid = [&](size_t i) { return i < n && xa.accepts(x_at(s, i)) && ya.accepts(s.y[i]); };
  for (size_t i = 0; i < n; ++i) {
    if (!valid(i)) continue;
    const double px = xa.pixel(x_at(s, i)), py = ya.pixel(s.y[i]);
    const bool joined_before = i > 0 && valid(i - 1), joined_after = valid(i + 1);
    if (s.style == Series::Style::points || (!joined_before && !joined_after)) {
      const bool lone = s.style == Series::Style::line;  // a lone point of a line needs a visible dot
      coverage.stroke(px, py, px, py, lone ? 2 * s.size : s.size);
    } else if (joined_after) {
      coverage.stroke(px, py, xa.pixel(x_at(s, i + 1)), ya.pixel(s.y[i + 1]), s.size);
    }
  }
  coverage.composite(canvas, c, std::clamp(s.opacity, 0.0, 1.0), busy);
}

int busy_pixels(const std::vector<float>& busy, int width, Rect r) {
  int count = 0;
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) count += busy[size_t(y) * width + x] > 0.1f;
  return count;
}

// The legend goes in whichever inside corner of the plot hides the fewest drawn pixels.
void draw_legend(Canvas& canvas, const std::vector<Series>& series, const std::vector<Rgb>& colors, Rect plot,
                 int scale, const std::vector<float>& busy) {
  std::vector<size_t> entries;
  int label_width = 0;
  for (size_t i = 0; i < series.size(); ++i)
    if (!series[i].label.empty()) {
      entries.push_back(i);
      label_width = std::max(label_width, text_width(series[i].label, scale));
    }
  if (entries.empty()) return;
  const int pad = 5 * scale, swatch = 12 * scale, row = (glyph_height + 3) * scale;
  const int w = pad + swatch + pad + label_width + pad, h = pad + static_cast<int>(entries.size()) * row + pad / 2;
  // A legend larger than the plot runs off its right or bottom edge, never over the tick labels.
  const int inset = 4 * scale, left = plot.x0 + inset, right = std::max(left, plot.x1 - inset - w);
  const int top = plot.y0 + inset, bottom = std::max(top, plot.y1 - inset - h);
  const std::array<Rect, 4> corners{Rect{right, top, right + w, top + h}, Rect{left, top, left + w, top + h},
                                    Rect{right, bottom, right + w, bottom + h},
                                    Rect{left, bottom, left + w, bottom + h}};
  Rect box = corners[0];
  int least = std::numeric_limits<int>::max();
  for (const Rect& r : corners)
    if (const int b = busy_pixels(busy, canvas.width(), r); b < least) least = b, box = r;

  canvas.fill(box, background);
  canvas.outline(box, legend_border);
  Coverage marks(canvas.width(), box);
  std::vector<float> unused(busy.size());
  for (size_t k = 0; k < entries.size(); ++k) {
    const Series& s = series[entries[k]];
    const int y = box.y0 + pad + static_cast<int>(k) * row;
    const double mid_y = y + 3.5 * scale, x0 = box.x0 + pad, x1 = x0 + swatch;
    if (s.style == Series::Style::points) {
      marks.stroke((x0 + x1) / 2, mid_y, (x0 + x1) / 2, mid_y, std::max(s.size, 3.0 * scale));
    } else {
      marks.stroke(x0, mid_y, x1, mid_y, std::max(s.size, 2.0));
    }
    // A faint series (a dense scatter, a raw curve behind its average) still needs a legible swatch.
    marks.composite(canvas, colors[entries[k]], std::max(std::clamp(s.opacity, 0.0, 1.0), 0.5), unused);
    canvas.text(static_cast<int>(x1) + pad, y, s.label, scale, text_color);
  }
}

// ---- layout ----

// Where everything goes: text size and spacing, the plot area, the axis mappings and their ticks.
struct Frame {
  int scale = 1, pad = 0, tick_length = 0, line_height = 0;
  Rect plot;
  Axis x, y;
  std::vector<Tick> x_ticks, y_ticks;
};

Frame plan_frame(const std::vector<Series>& series, const PlotOptions& opt) {
  Frame f;
  // Text at twice the font size from a few hundred pixels up; smaller plots keep it at 1.
  f.scale = std::min(opt.width, opt.height) >= 360 ? 2 : 1;
  f.pad = 6 * f.scale, f.tick_length = 3 * f.scale, f.line_height = glyph_height * f.scale;
  const int gap = 20 * f.scale;  // the least distance between ticks
  f.y.log = opt.log_y;
  std::tie(f.x.lo, f.x.hi) = axis_range(series, false, f.x, f.y);
  std::tie(f.y.lo, f.y.hi) = axis_range(series, true, f.y, f.x);

  // Vertical layout first: the y tick labels it yields decide the left margin.
  Rect& plot = f.plot;
  plot.y0 = opt.title.empty() ? 2 * f.pad : 3 * f.pad + f.line_height;
  plot.y1 =
      opt.height - (f.tick_length + 2 * f.pad + f.line_height + (opt.x_label.empty() ? 0 : f.pad + f.line_height));
  auto stacked = [](const std::string&) { return 0; };  // y labels sit one above another: gap suffices
  const double plot_h = plot.height();
  f.y_ticks =
      f.y.log ? log_ticks(f.y.lo, f.y.hi, plot_h, gap, stacked) : linear_ticks(f.y.lo, f.y.hi, plot_h, gap, stacked);
  int y_labels_width = 0;
  for (const Tick& t : f.y_ticks) y_labels_width = std::max(y_labels_width, text_width(t.label, f.scale));
  plot.x0 = f.pad + (opt.y_label.empty() ? 0 : f.line_height + f.pad) + y_labels_width + f.pad / 2 + f.tick_length;
  plot.x1 = opt.width - 3 * f.pad;
  f.x_ticks =
      linear_ticks(f.x.lo, f.x.hi, plot.width(), gap, [&](const std::string& s) { return text_width(s, f.scale); });
  f.x.pixel_lo = plot.x0, f.x.pixel_hi = plot.x1;
  f.y.pixel_lo = plot.y1, f.y.pixel_hi = plot.y0;
  return f;
}

void draw_grid(Canvas& canvas, const Frame& f) {
  for (const Tick& t : f.x_ticks) {
    const int x = static_cast<int>(f.x.pixel_of_unit(t.position));
    canvas.fill({x, f.plot.y0, x + 1, f.plot.y1}, grid_color);
  }
  for (const Tick& t : f.y_ticks) {
    const int y = static_cast<int>(f.y.pixel_of_unit(t.position));
    canvas.fill({f.plot.x0, y, f.plot.x1, y + 1}, grid_color);
  }
}

// The frame, tick marks and their numbers, the title and the axis labels.
void draw_axes(Canvas& canvas, const Frame& f, const PlotOptions& opt) {
  const Rect& plot = f.plot;
  const int scale = f.scale;
  canvas.outline({plot.x0 - 1, plot.y0 - 1, plot.x1 + 1, plot.y1 + 1}, frame_color);
  for (const Tick& t : f.x_ticks) {
    const int x = static_cast<int>(f.x.pixel_of_unit(t.position)), w = text_width(t.label, scale);
    canvas.fill({x, plot.y1, x + 1, plot.y1 + f.tick_length}, frame_color);
    canvas.text(std::clamp(x - w / 2, 0, opt.width - w), plot.y1 + f.tick_length + f.pad, t.label, scale, text_color);
  }
  int last_label_top = std::numeric_limits<int>::max();  // log axes can crowd: skip labels that would overlap
  for (const Tick& t : f.y_ticks) {
    const int y = static_cast<int>(f.y.pixel_of_unit(t.position)), top = y - 7 * scale / 2;  // centre the capitals
    canvas.fill({plot.x0 - f.tick_length, y, plot.x0, y + 1}, frame_color);
    if (top + f.line_height > last_label_top) continue;
    canvas.text(plot.x0 - f.tick_length - f.pad / 2 - text_width(t.label, scale), top, t.label, scale, text_color);
    last_label_top = top;
  }
  const int centre_x = (plot.x0 + plot.x1) / 2;
  if (!opt.title.empty())
    canvas.text(centre_x - text_width(opt.title, scale) / 2, 2 * f.pad, opt.title, scale, text_color);
  if (!opt.x_label.empty())
    canvas.text(centre_x - text_width(opt.x_label, scale) / 2, opt.height - f.pad - f.line_height, opt.x_label, scale,
                text_color);
  if (!opt.y_label.empty())
    canvas.text(f.pad, (plot.y0 + plot.y1 - text_width(opt.y_label, scale)) / 2, opt.y_label, scale, text_color, true);
}

}  // namespace

Rgb palette_color(size_t i) {
  static constexpr std::array<Rgb, 10> tab10{{{31, 119, 180},
                                              {255, 127, 14},
                                              {44, 160, 44},
                                              {214, 39, 40},
                                              {148, 103, 189},
                                              {140, 86, 75},
                                              {227, 119, 194},
                                              {127, 127, 127},
                                              {188, 189, 34},
                                              {23, 190, 207}}};
  return tab10[i % tab10.size()];
}

namespace {

void save_canvas(const std::string& path, const Canvas& canvas) {
  write_png(path, canvas.width(), canvas.height(), 3, canvas.data());
}

void check_size(const std::string& path, const PlotOptions& opt) {
  CFGAN_CHECK(opt.width >= 160 && opt.height >= 120 && opt.width <= 16384 && opt.height <= 16384, path, ": plot size ",
              opt.width, "x", opt.height, " is outside 160x120 .. 16384x16384");
}

}  // namespace

void write_plot_png(const std::string& path, const std::vector<Series>& series, const PlotOptions& opt) {
  check_size(path, opt);
  for (const Series& s : series)
    CFGAN_CHECK(s.x.empty() || s.x.size() == s.y.size(), path, ": series '", s.label, "' has ", s.x.size(),
                " x values but ", s.y.size(), " y values");

  const Frame frame = plan_frame(series, opt);
  Canvas canvas(opt.width, opt.height);
  draw_grid(canvas, frame);
  std::vector<Rgb> colors;
  std::vector<float> busy(size_t(opt.width) * opt.height, 0.0f);
  Coverage coverage(opt.width, frame.plot);
  for (size_t i = 0; i < series.size(); ++i) {
    colors.push_back(series[i].color.value_or(palette_color(i)));
    draw_series(canvas, series[i], colors.back(), frame.x, frame.y, coverage, busy);
  }
  draw_axes(canvas, frame, opt);
  draw_legend(canvas, series, colors, frame.plot, frame.scale, busy);
  save_canvas(path, canvas);
}

void write_bar_chart_png(const std::string& path, const BarChart& chart, const PlotOptions& opt) {
  check_size(path, opt);
  const size_t groups = chart.categories.size();
  CFGAN_CHECK(groups > 0 && !chart.series.empty(), path, ": a bar chart needs categories and series");
  CFGAN_CHECK(chart.y_max > chart.y_min, path, ": y_max must exceed y_min");
  for (const BarSeries& b : chart.series)
    CFGAN_CHECK(b.value.size() == groups && (b.lo.empty() || (b.lo.size() == groups && b.hi.size() == groups)), path,
                ": series '", b.label, "' needs one value (and interval) per category, ", groups, " in all");
  // The frame of a line plot spanning the categories and the y range; x gets category names, not numbers.
  std::vector<Series> extent{{.x = {-0.5, groups - 0.5}, .y = {chart.y_min, chart.y_max}}};
  for (const BarSeries& b : chart.series) extent.push_back({.label = b.label, .y = {}});
  Frame frame = plan_frame(extent, opt);
  frame.x.lo = -0.5, frame.x.hi = static_cast<double>(groups) - 0.5;
  frame.y.lo = chart.y_min, frame.y.hi = chart.y_max;
  frame.x_ticks.clear();
  auto stacked = [](const std::string&) { return 0; };
  frame.y_ticks = linear_ticks(frame.y.lo, frame.y.hi, frame.plot.height(), 20 * frame.scale, stacked);
  Canvas canvas(opt.width, opt.height);
  draw_grid(canvas, frame);

  const double slot = frame.plot.width() / static_cast<double>(groups);
  const double bar = slot * 0.8 / static_cast<double>(chart.series.size());
  std::vector<Rgb> colors;
  for (size_t j = 0; j < chart.series.size(); ++j) colors.push_back(palette_color(j));
  std::vector<float> busy(size_t(opt.width) * opt.height, 0.0f);  // where the bars are, for the legend to avoid
  for (size_t g = 0; g < groups; ++g)
    for (size_t j = 0; j < chart.series.size(); ++j) {
      const BarSeries& b = chart.series[j];
      const double v = b.value[g];
      if (!std::isfinite(v)) continue;
      const double x0 = frame.plot.x0 + slot * (static_cast<double>(g) + 0.1) + bar * static_cast<double>(j);
      const double y_value = frame.y.pixel(std::clamp(v, chart.y_min, chart.y_max)),
                   y_base = frame.y.pixel(std::clamp(0.0, chart.y_min, chart.y_max));
      const Rect r{static_cast<int>(x0 + 1), static_cast<int>(std::min(y_value, y_base)),
                   static_cast<int>(x0 + bar - 1), static_cast<int>(std::max(y_value, y_base)) + 1};
      canvas.fill(r, colors[j]);
      for (int y = std::max(r.y0, 0); y < std::min(r.y1, opt.height); ++y)
        for (int x = std::max(r.x0, 0); x < std::min(r.x1, opt.width); ++x) busy[size_t(y) * opt.width + x] = 1;
      if (b.lo.empty() || !std::isfinite(b.lo[g]) || !std::isfinite(b.hi[g])) continue;
      const int mid = static_cast<int>(x0 + bar / 2), cap = std::max(2, static_cast<int>(bar / 4));
      const int top = static_cast<int>(frame.y.pixel(b.hi[g])), bottom = static_cast<int>(frame.y.pixel(b.lo[g]));
      canvas.fill({mid, top, mid + 1, bottom + 1}, frame_color);
      canvas.fill({mid - cap, top, mid + cap + 1, top + 1}, frame_color);
      canvas.fill({mid - cap, bottom, mid + cap + 1, bottom + 1}, frame_color);
    }
  draw_axes(canvas, frame, opt);
  // Category names under their groups, at the smaller text size when the larger would collide.
  int label_scale = frame.scale;
  for (const std::string& c : chart.categories)
    if (text_width(c, label_scale) > slot - 4) label_scale = 1;
  for (size_t g = 0; g < groups; ++g) {
    const int centre = static_cast<int>(frame.plot.x0 + slot * (static_cast<double>(g) + 0.5));
    canvas.text(centre - text_width(chart.categories[g], label_scale) / 2,
                frame.plot.y1 + frame.tick_length + frame.pad, chart.categories[g], label_scale, text_color);
  }
  std::vector<Series> legend;
  for (const BarSeries& b : chart.series) legend.push_back({.label = b.label, .size = 8});
  draw_legend(canvas, legend, colors, frame.plot, frame.scale, busy);
  save_canvas(path, canvas);
}

void write_graph_png(const std::string& path, const std::vector<std::string>& nodes,
                     const std::vector<std::pair<int, int>>& edges, const std::string& title) {
  const int n = static_cast<int>(nodes.size());
  for (const auto& [from, to] : edges)
    CFGAN_CHECK(from >= 0 && from < n && to >= 0 && to < n && from != to, path, ": edge ", from, " -> ", to,
                " is not between two of the ", n, " nodes");
  // Depth = the longest path from a root; n rounds of relaxation settle any acyclic graph.
  std::vector<int> depth(nodes.size(), 0);
  for (int round = 0; round < n; ++round)
    for (const auto& [from, to] : edges) depth[to] = std::max(depth[to], depth[from] + 1);
  const int columns = n ? *std::max_element(depth.begin(), depth.end()) + 1 : 1;
  std::vector<int> row(nodes.size()), rows(static_cast<size_t>(columns), 0);
  for (int k = 0; k < n; ++k) row[k] = rows[depth[k]]++;
  const int scale = 2, pad = 10, box_h = glyph_height * scale + 2 * pad, gap_y = 24, gap_x = 80;
  int box_w = 0;
  for (const std::string& name : nodes) box_w = std::max(box_w, text_width(name, scale) + 2 * pad);
  const int most_rows = n ? *std::max_element(rows.begin(), rows.end()) : 1;
  const int top = 3 * pad + glyph_height * scale;
  const int width = std::max(200, columns * box_w + (columns - 1) * gap_x + 2 * gap_y);
  const int height = top + most_rows * box_h + (most_rows - 1) * gap_y + gap_y;
  Canvas canvas(width, height);
  auto box = [&](int k) {
    const int x = gap_y + depth[k] * (box_w + gap_x);
    const int y = top + row[k] * (box_h + gap_y) + (most_rows - rows[depth[k]]) * (box_h + gap_y) / 2;
    return Rect{x, y, x + box_w, y + box_h};
  };
  Coverage arrows(width, Rect{0, 0, width, height});
  for (const auto& [from, to] : edges) {
    const Rect a = box(from), b = box(to);
    const double ax = a.x1, ay = (a.y0 + a.y1) / 2.0, bx = b.x0 - 2, by = (b.y0 + b.y1) / 2.0;
    arrows.stroke(ax, ay, bx, by, 2);
    const double len = std::hypot(bx - ax, by - ay), ux = (bx - ax) / len, uy = (by - ay) / len;
    for (double side : {-1.0, 1.0})  // the arrowhead: two short strokes back from the tip
      arrows.stroke(bx, by, bx - 10 * ux - 6 * side * uy, by - 10 * uy + 6 * side * ux, 2);
  }
  std::vector<float> unused(size_t(width) * height);
  arrows.composite(canvas, frame_color, 1.0, unused);
  for (int k = 0; k < n; ++k) {
    const Rect r = box(k);
    canvas.fill(r, Rgb{235, 242, 250});
    canvas.outline(r, frame_color);
    canvas.text(r.x0 + pad, r.y0 + pad, nodes[k], scale, text_color);
  }
  canvas.text((width - text_width(title, scale)) / 2, pad, title, scale, text_color);
  save_canvas(path, canvas);
}

std::vector<double> moving_average(const std::vector<double>& y, size_t window) {
  CFGAN_CHECK(window > 0, "moving_average: window must be at least 1");
  // Prefix sums of the finite values and of their count make every window O(1).
  std::vector<double> sum(y.size() + 1, 0.0);
  std::vector<size_t> count(y.size() + 1, 0);
  for (size_t i = 0; i < y.size(); ++i) {
    const bool finite = std::isfinite(y[i]);
    sum[i + 1] = sum[i] + (finite ? y[i] : 0.0);
    count[i + 1] = count[i] + finite;
  }
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    const size_t lo = i >= window / 2 ? i - window / 2 : 0;
    const size_t hi = std::min(y.size(), i + window - window / 2);  // one past the window's end
    const size_t n = count[hi] - count[lo];
    out[i] = n ? (sum[hi] - sum[lo]) / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

}  // namespace cfgan
