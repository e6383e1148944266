#include "models/explain/maps.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/error.h"

namespace cfgan {

std::vector<float> map_magnitudes(const Tensor& maps) {
  CFGAN_CHECK(maps.ndim() == 4, "attribution maps must be (N, C, H, W), got ", maps.shape().str());
  const int64_t n = maps.dim(0), c = maps.dim(1), pixels = maps.dim(2) * maps.dim(3);
  const std::vector<float> values = maps.to_host();
  std::vector<float> out(static_cast<size_t>(n * pixels), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < c; ++k) {
      const float* src = values.data() + (i * c + k) * pixels;
      float* dst = out.data() + i * pixels;
      for (int64_t p = 0; p < pixels; ++p) dst[p] += std::fabs(src[p]);
    }
  }
  return out;
}

double pointing_score(const float* magnitude, const uint8_t* mask, int64_t pixels) {
  double inside = 0, total = 0;
  int64_t covered = 0;
  for (int64_t p = 0; p < pixels; ++p) {
    total += magnitude[p];
    if (mask[p]) inside += magnitude[p], ++covered;
  }
  if (total <= 0 || covered == 0 || covered == pixels) return std::numeric_limits<double>::quiet_NaN();
  const double e = inside / total, m = static_cast<double>(covered) / static_cast<double>(pixels);
  return (e - m) / (1 - m);
}

Image heat_image(const float* magnitude, int64_t height, int64_t width, int64_t scale) {
  CFGAN_CHECK(scale >= 1, "heat_image: scale must be >= 1, got ", scale);
  const float top = *std::max_element(magnitude, magnitude + height * width);
  Image image{width * scale, height * scale, 3, {}};
  image.pixels.resize(static_cast<size_t>(image.width * image.height * 3));
  for (int64_t y = 0; y < image.height; ++y) {
    for (int64_t x = 0; x < image.width; ++x) {
      const float v = top > 0 ? std::clamp(magnitude[(y / scale) * width + x / scale] / top, 0.0f, 1.0f) : 0.0f;
      // Three equal legs: black -> red, red -> yellow, yellow -> white.
      const float r = std::min(1.0f, 3 * v), g = std::clamp(3 * v - 1, 0.0f, 1.0f),
                  b = std::clamp(3 * v - 2, 0.0f, 1.0f);
      uint8_t* px = image.pixels.data() + (y * image.width + x) * 3;
      px[0] = static_cast<uint8_t>(std::lround(255 * r));
      px[1] = static_cast<uint8_t>(std::lround(255 * g));
      px[2] = static_cast<uint8_t>(std::lround(255 * b));
    }
  }
  return image;
}

}  // namespace cfgan
