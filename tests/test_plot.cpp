#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "engine/error.h"
#include "engine/io/bitmap_font.h"
#include "engine/io/plot.h"
#include "tests/test_util.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr Rgb red{214, 39, 40}, green{44, 160, 44}, blue{31, 119, 180};
constexpr Rgb text_color{34, 34, 34};  // plot.cpp's text colour: legend and tick labels
constexpr Rgb frame_color{64, 64, 64};  // plot.cpp's frame and tick marks

struct Pixel {
  int x, y;
};

struct Png {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;

  Rgb at(int x, int y) const {
    const uint8_t* p = &data[(size_t(y) * width + x) * channels];
    return {p[0], p[1], p[2]};
  }
  std::vector<Pixel> pixels_of(Rgb c) const {
    std::vector<Pixel> out;
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        if (at(x, y) == c) out.push_back({x, y});
    return out;
  }
};

Png read_png(const std::string& path) {
  Png png;
  unsigned char* data = stbi_load(path.c_str(), &png.width, &png.height, &png.channels, 0);
  if (!data) {
    ADD_FAILURE() << "cannot read " << path;
    return png;
  }
  png.data.assign(data, data + size_t(png.width) * png.height * png.channels);
  stbi_image_free(data);
  return png;
}

double mean_y(const std::vector<Pixel>& pixels) {
  double sum = 0;
  for (const Pixel& p : pixels) sum += p.y;
  return sum / static_cast<double>(pixels.size());
}

double mean_x(const std::vector<Pixel>& pixels) {
  double sum = 0;
  for (const Pixel& p : pixels) sum += p.x;
  return sum / static_cast<double>(pixels.size());
}

// Splits pixels into groups separated by empty columns, left to right (one group per dot or run).
std::vector<std::vector<Pixel>> column_groups(std::vector<Pixel> pixels) {
  std::sort(pixels.begin(), pixels.end(), [](const Pixel& a, const Pixel& b) { return a.x < b.x; });
  std::vector<std::vector<Pixel>> groups;
  for (const Pixel& p : pixels) {
    if (groups.empty() || p.x > groups.back().back().x + 1) groups.emplace_back();
    groups.back().push_back(p);
  }
  return groups;
}

Series line(std::vector<double> x, std::vector<double> y, Rgb c, double size = 3) {
  return {.x = std::move(x), .y = std::move(y), .color = c, .size = size};
}

Series dots(std::vector<double> x, std::vector<double> y, Rgb c, double size = 6) {
  return {.x = std::move(x), .y = std::move(y), .color = c, .style = Series::Style::points, .size = size};
}

class Plot : public cfgan_test::TempDirTest {
 protected:
  Png plot(const std::vector<Series>& series, const PlotOptions& options = {}) {
    const std::string file = path("plot.png");
    write_plot_png(file, series, options);
    return read_png(file);
  }
};

TEST_F(Plot, WritesRgbPngOfRequestedSize) {
  const Png png = plot({line({0, 1, 2}, {3, 1, 2}, blue)}, {.title = "size", .width = 640, .height = 420});
  EXPECT_EQ(png.width, 640);
  EXPECT_EQ(png.height, 420);
  EXPECT_EQ(png.channels, 3);
}

TEST_F(Plot, CreatesParentDirectories) {
  const std::string file = path("a/b/plot.png");
  write_plot_png(file, {line({0, 1}, {0, 1}, blue)}, {});
  EXPECT_TRUE(fs::is_regular_file(file));
}

// Lines at y = 0, 1 and 4: the y = 1 line must sit a quarter of the way from the first to the
// last, and its colour must appear nowhere else.
TEST_F(Plot, HorizontalLineLandsOnItsRow) {
  const Png png = plot({line({0, 10}, {0, 0}, red), line({0, 10}, {4, 4}, green), line({0, 10}, {1, 1}, blue)});
  const auto at0 = png.pixels_of(red), at4 = png.pixels_of(green), at1 = png.pixels_of(blue);
  ASSERT_FALSE(at0.empty());
  ASSERT_FALSE(at4.empty());
  ASSERT_FALSE(at1.empty());
  const double row0 = mean_y(at0), row4 = mean_y(at4), row1 = mean_y(at1);
  EXPECT_LT(row4, row0) << "larger y must be higher up";
  EXPECT_NEAR(row1, row0 + (row4 - row0) / 4, 1.0);
  for (const Pixel& p : at1) EXPECT_NEAR(p.y, row1, 1.0) << "at column " << p.x;

  // Any bluish pixel (the line's anti-aliased edge included) stays within two rows of it.
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x) {
      const Rgb c = png.at(x, y);
      if (c.b - c.r > 30) {
        EXPECT_LE(std::abs(y - row1), 2.5) << "bluish pixel at " << x << "," << y;
      }
    }
  // The line runs as far as the others.
  const auto [min0, max0] = std::minmax_element(at0.begin(), at0.end(), [](auto a, auto b) { return a.x < b.x; });
  const auto [min1, max1] = std::minmax_element(at1.begin(), at1.end(), [](auto a, auto b) { return a.x < b.x; });
  EXPECT_NEAR(min1->x, min0->x, 1);
  EXPECT_NEAR(max1->x, max0->x, 1);
}

// A dot at (5, 5) sits midway between dots at (0, 0) and (10, 10), and only there.
TEST_F(Plot, PointIsDrawnWhereItBelongs) {
  const Png png = plot({dots({0, 10}, {0, 10}, red), dots({5}, {5}, blue)});
  const auto corners = png.pixels_of(red), middle = png.pixels_of(blue);
  ASSERT_EQ(column_groups(corners).size(), 2u);
  ASSERT_EQ(column_groups(middle).size(), 1u);
  EXPECT_NEAR(mean_x(middle), mean_x(corners), 1.0);
  EXPECT_NEAR(mean_y(middle), mean_y(corners), 1.0);
  for (const Pixel& p : middle) EXPECT_LE(std::hypot(p.x - mean_x(middle), p.y - mean_y(middle)), 3.0);
}

// y = 1 everywhere but a NaN at x = 3: the line breaks between x = 2 and x = 4, a third of its length.
TEST_F(Plot, NaNLeavesAGap) {
  const Png png = plot({line({0, 1, 2, 3, 4, 5, 6}, {1, 1, 1, nan, 1, 1, 1}, blue)});
  const auto runs = column_groups(png.pixels_of(blue));
  ASSERT_EQ(runs.size(), 2u);
  const double left = runs[0].front().x, right = runs[1].back().x;
  const double gap = runs[1].front().x - runs[0].back().x;
  EXPECT_NEAR(gap / (right - left), 2.0 / 6, 0.02);
}

TEST_F(Plot, InfinityAndMissingXAreHandled) {
  // x omitted means x = index; the infinite value is skipped and does not stretch the axis.
  const Png png = plot({{.y = {0, 1, std::numeric_limits<double>::infinity(), 3}, .color = blue, .size = 3}});
  const auto runs = column_groups(png.pixels_of(blue));
  ASSERT_EQ(runs.size(), 2u);  // 0-1 joined; 3 alone, drawn as a dot
  EXPECT_GT(runs[0].back().x - runs[0].front().x, 100);
}

TEST_F(Plot, ConstantSeriesIsDrawnAcrossTheMiddle) {
  const Png png = plot({line({0, 1, 2, 3}, {0.693, 0.693, 0.693, 0.693}, blue)});
  const auto pixels = png.pixels_of(blue);
  ASSERT_FALSE(pixels.empty());
  EXPECT_NEAR(mean_y(pixels), png.height / 2.0, png.height / 10.0);
  EXPECT_EQ(column_groups(pixels).size(), 1u);
}

// The same data with and without a label: the labelled plot differs in one compact box that holds
// text and a swatch of the series' colour.
TEST_F(Plot, LegendShowsLabelledSeries) {
  Series s = line({0, 1, 2}, {2, 1, 0}, blue);
  const Png bare = plot({s});
  s.label = "generator";
  const Png labelled = plot({s});
  int x0 = labelled.width, y0 = labelled.height, x1 = -1, y1 = -1;
  for (int y = 0; y < labelled.height; ++y)
    for (int x = 0; x < labelled.width; ++x)
      if (!(bare.at(x, y) == labelled.at(x, y))) {
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
  ASSERT_GE(x1, 0) << "the legend changed nothing";
  EXPECT_GE(x1 - x0, text_width("generator", 2));
  EXPECT_LT(y1 - y0, labelled.height / 4);
  int text = 0, swatch = 0;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      text += labelled.at(x, y) == text_color;
      swatch += labelled.at(x, y) == blue;
    }
  EXPECT_GT(text, 50);
  EXPECT_GT(swatch, 10);
}

TEST_F(Plot, EmptySeriesAppearsInTheLegendOnly) {
  const Png png = plot({line({0, 1}, {0, 1}, red), {.label = "nothing yet", .color = blue}});
  const auto pixels = png.pixels_of(blue);
  ASSERT_FALSE(pixels.empty());
  EXPECT_EQ(column_groups(pixels).size(), 1u);
  EXPECT_LT(pixels.back().y - pixels.front().y, 6) << "only the short swatch line";
}

namespace {

// The frame's closed outline: its bounding box, every pixel of whose four edges is frame-coloured.
struct Box {
  int x0, y0, x1, y1;
};
Box expect_closed_frame(const Png& png) {
  const std::vector<Pixel> frame = png.pixels_of(frame_color);
  EXPECT_FALSE(frame.empty()) << "no frame";
  if (frame.empty()) return {0, 0, 0, 0};
  // Tick marks stick out of the frame: the box is where whole rows and columns are frame-coloured.
  Box b{png.width, png.height, -1, -1};
  for (const Pixel& p : frame) {
    b.x0 = std::min(b.x0, p.x), b.y0 = std::min(b.y0, p.y), b.x1 = std::max(b.x1, p.x), b.y1 = std::max(b.y1, p.y);
  }
  auto full_row = [&](int y, int x0, int x1) {
    for (int x = x0; x <= x1; ++x)
      if (!(png.at(x, y) == frame_color)) return false;
    return true;
  };
  while (b.y1 > b.y0 && !full_row(b.y1, b.x0 + 8, b.x1)) --b.y1;       // below the frame: x-axis ticks
  while (b.x0 < b.x1 && !(png.at(b.x0, b.y0) == frame_color)) ++b.x0;  // left of it: y-axis ticks
  EXPECT_TRUE(full_row(b.y0, b.x0, b.x1) && full_row(b.y1, b.x0, b.x1)) << "top or bottom edge broken";
  for (int y = b.y0; y <= b.y1; ++y)
    EXPECT_TRUE(png.at(b.x0, y) == frame_color && png.at(b.x1, y) == frame_color) << "side broken at row " << y;
  EXPECT_GT(b.x1 - b.x0, png.width / 2);
  EXPECT_GT(b.y1 - b.y0, png.height / 2);
  return b;
}

}  // namespace

TEST_F(Plot, NoSeriesStillDrawsAxes) {
  const Png png = plot({}, {.title = "empty", .x_label = "x", .y_label = "y"});
  const Box frame = expect_closed_frame(png);
  // The title above the frame, the x label below it, the y label left of it; nothing inside.
  int above = 0, below = 0, left = 0, inside = 0;
  for (const Pixel& p : png.pixels_of(text_color)) {
    above += p.y < frame.y0;
    below += p.y > frame.y1 + 2;
    left += p.x < frame.x0 - 2 && p.y > frame.y0 && p.y < frame.y1;
    inside += p.x > frame.x0 && p.x < frame.x1 && p.y > frame.y0 && p.y < frame.y1;
  }
  EXPECT_GT(above, 0) << "no title";
  EXPECT_GT(below, 0) << "no x label or tick numbers";
  EXPECT_GT(left, 0) << "no y label or tick numbers";
  EXPECT_EQ(inside, 0);
  const Png untitled = plot({}, {.x_label = "x", .y_label = "y"});
  EXPECT_LT(expect_closed_frame(untitled).y0, frame.y0) << "the title's room is not given back";
}

// Decades are equally spaced on a log axis; values <= 0 and NaN are dropped without error.
TEST_F(Plot, LogScaleSpacesDecadesEquallyAndSkipsNonPositive) {
  const Png png = plot({dots({0, 1, 2, 3, 4, 5, 6}, {1, 10, 100, 1000, 0, -5, nan}, blue)}, {.log_y = true});
  const auto groups = column_groups(png.pixels_of(blue));
  ASSERT_EQ(groups.size(), 4u);
  std::vector<double> rows;
  for (const auto& g : groups) rows.push_back(mean_y(g));
  for (size_t i = 1; i + 1 < rows.size(); ++i) EXPECT_NEAR(rows[i] - rows[i - 1], rows[i + 1] - rows[i], 1.0);
  EXPECT_LT(rows[3], rows[0]);

  // Nothing positive on a log axis: an empty frame, no line, no error.
  const Png empty = plot({line({0, 1, 2}, {-1, 0, -2}, blue)}, {.log_y = true});
  expect_closed_frame(empty);
  EXPECT_TRUE(empty.pixels_of(blue).empty());
}

TEST_F(Plot, UnwritablePathNamesTheFile) {
  std::ofstream(path("file.txt")) << "not a directory";
  const std::string file = path("file.txt/plot.png");
  try {
    write_plot_png(file, {line({0, 1}, {0, 1}, blue)}, {});
    ADD_FAILURE() << "no error writing " << file;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

TEST_F(Plot, MismatchedSizesNameTheSeries) {
  try {
    write_plot_png(path("plot.png"), {{.label = "d_loss", .x = {0, 1, 2}, .y = {0, 1}}}, {});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("d_loss"), std::string::npos) << e.what();
  }
}

TEST_F(Plot, MovingAverageKnownAnswers) {
  const std::vector<double> y{1, 2, 3, 4, 5};
  EXPECT_EQ(moving_average(y, 1), y);
  EXPECT_EQ(moving_average(y, 3), (std::vector<double>{1.5, 2, 3, 4, 4.5}));
  EXPECT_EQ(moving_average(y, 2), (std::vector<double>{1, 1.5, 2.5, 3.5, 4.5}));  // even: one more before
  EXPECT_EQ(moving_average(y, 9), (std::vector<double>(5, 3)));
  EXPECT_TRUE(moving_average({}, 4).empty());
  EXPECT_THROW(moving_average(y, 0), Error);
}

TEST_F(Plot, MovingAverageSkipsNonFiniteValues) {
  EXPECT_EQ(moving_average({1, nan, 3}, 3), (std::vector<double>{1, 2, 3}));
  const auto out = moving_average({nan, std::numeric_limits<double>::infinity(), 5}, 1);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_EQ(out[2], 5);
}

// Every printable character, rendered through a PNG file: each has ink (but space), and no two
// characters look the same.
TEST_F(Plot, FontDrawsEveryPrintableCharacterDistinctly) {
  constexpr int first = 32, count = 95, scale = 2;
  constexpr int cell_w = glyph_advance * scale, cell_h = (glyph_height + 1) * scale;
  const int width = count * cell_w, height = cell_h;
  std::vector<uint8_t> sheet(size_t(width) * height, 255);
  for (int i = 0; i < count; ++i)
    for (int y = 0; y < glyph_height * scale; ++y)
      for (int x = 0; x < glyph_width * scale; ++x)
        if (glyph_pixel(static_cast<char>(first + i), x / scale, y / scale))
          sheet[size_t(y) * width + i * cell_w + x] = 0;
  const std::string file = path("font.png");
  ASSERT_TRUE(stbi_write_png(file.c_str(), width, height, 1, sheet.data(), width));

  const Png png = read_png(file);
  ASSERT_EQ(png.width, width);
  std::vector<std::vector<uint8_t>> cells(count);
  for (int i = 0; i < count; ++i)
    for (int y = 0; y < cell_h; ++y)
      for (int x = 0; x < cell_w; ++x)
        cells[i].push_back(png.data[(size_t(y) * width + i * cell_w + x) * png.channels]);
  for (int i = 0; i < count; ++i) {
    const bool inked = std::count(cells[i].begin(), cells[i].end(), 0) > 0;
    EXPECT_EQ(inked, i != 0) << "character '" << static_cast<char>(first + i) << "'";
  }
  for (int i = 0; i < count; ++i)
    for (int j = i + 1; j < count; ++j)
      EXPECT_NE(cells[i], cells[j]) << "'" << static_cast<char>(first + i) << "' and '" << static_cast<char>(first + j)
                                    << "' look the same";
  EXPECT_NE(glyph_rows('\x01'), glyph_rows(' ')) << "unprintable bytes show a box";
}

}  // namespace
