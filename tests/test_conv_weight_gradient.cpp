// The CPU backend's weight gradient over the batch in vectors (FP32, batch a multiple of
// 16; kernels/cpu/conv_weight_gradient.cpp) against double-precision sums, over strides,
// paddings, kernel sizes and channel counts that leave ragged register tiles and padded
// rows the taps never read. Its sums run in another order than the direct path's, so the
// results are compared with a tolerance: 1e-6 of the sum of the terms' magnitudes. Each
// lane adds at most a few hundred terms here and the 16 lanes are added at the end; the
// worst measured is 3.4e-8 of that sum (FP32's unit roundoff is 6e-8), so the bound has
// ~30x headroom, while a tap, tile or padding off by one moves a result by 1e-2 or more.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/conv_weight_gradient.h"
#include "kernels/kernels.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::uniform;

namespace {

ConvGeom geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s, int64_t stride,
                  int64_t pad) {
  ConvGeom g{};
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = s;
  g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
  g.p = (h + 2 * pad - r) / stride + 1, g.q = (w + 2 * pad - s) / stride + 1;
  return g;
}

}  // namespace

TEST(ConvWeightGradient, TakesFp32BatchesOfWholeVectors) {
  ConvGeom g = geometry(64, 64, 14, 14, 128, 4, 4, 2, 1);
  EXPECT_TRUE(cpu::lane_weight_gradient_applies(g));
  g.n = 40;
  EXPECT_FALSE(cpu::lane_weight_gradient_applies(g));
  g.n = 64, g.precision = MatmulPrecision::bf16;  // rounded operands keep the GEMM's pair kernels
  EXPECT_FALSE(cpu::lane_weight_gradient_applies(g));
  // DCGAN-32's first transposed convolution (as a convolution: 4x4 to 1x1): 4 steps a sum
  g = geometry(64, 256, 4, 4, 100, 4, 4, 1, 0);
  EXPECT_FALSE(cpu::lane_weight_gradient_applies(g));
  g = geometry(64, 128, 8, 8, 256, 4, 4, 2, 1);  // its 8x8 to 4x4 layer: 64 steps
  EXPECT_TRUE(cpu::lane_weight_gradient_applies(g));
}

TEST(ConvWeightGradient, MatchesDirectSums) {
  const ConvGeom geometries[] = {
      geometry(16, 16, 14, 14, 32, 4, 4, 2, 1),  // DCGAN's inner layer: 32 channels in tiles of 5 and 6
      geometry(32, 1, 28, 28, 64, 4, 4, 2, 1),   // an image layer, two blocks of 16 images
      geometry(16, 3, 9, 7, 7, 3, 3, 1, 1),      // 3 taps per row, 7 channels in tiles of 3 and 4
      geometry(16, 2, 16, 16, 13, 3, 3, 2, 0),   // the last input row and column are never read
      geometry(16, 4, 9, 8, 5, 5, 5, 1, 2),      // 5 taps: a tile of 4 and one of 1; padding 2
      geometry(32, 5, 31, 25, 1, 1, 1, 3, 0),    // 1x1 kernel at stride 3, one output channel
      geometry(80, 3, 8, 8, 7, 3, 3, 1, 1),      // 80 images: partial sums of 64 and 16 added in dW
  };
  std::mt19937 rng(11);
  for (const ConvGeom& g : geometries) {
    ASSERT_TRUE(cpu::lane_weight_gradient_applies(g));
    const std::vector<float> in = uniform(g.n * g.c * g.h * g.w, rng);
    const std::vector<float> dout = uniform(g.n * g.k * g.p * g.q, rng);
    const size_t taps = g.k * g.c * g.r * g.s;
    std::vector<double> want(taps, 0.0), magnitude(taps, 0.0);
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t k = 0; k < g.k; ++k) {
        for (int64_t p = 0; p < g.p; ++p) {
          for (int64_t q = 0; q < g.q; ++q) {
            const double d = dout[((n * g.k + k) * g.p + p) * g.q + q];
            for (int64_t c = 0; c < g.c; ++c) {
              for (int64_t r = 0; r < g.r; ++r) {
                for (int64_t s = 0; s < g.s; ++s) {
                  const int64_t y = p * g.stride_h - g.pad_h + r, x = q * g.stride_w - g.pad_w + s;
                  if (y < 0 || y >= g.h || x < 0 || x >= g.w) continue;
                  const size_t f = ((k * g.c + c) * g.r + r) * g.s + s;
                  const double term = d * in[((n * g.c + c) * g.h + y) * g.w + x];
                  want[f] += term;
                  magnitude[f] += std::abs(term);
                }
              }
            }
          }
        }
      }
    }
    const std::string where = "n=" + std::to_string(g.n) + " c=" + std::to_string(g.c) + " " + std::to_string(g.h) +
                              "x" + std::to_string(g.w) + " k=" + std::to_string(g.k) + " " + std::to_string(g.r) +
                              "x" + std::to_string(g.s) + " stride " + std::to_string(g.stride_h);
    // Workspace NaN-filled: the padding the taps read must be written, not found.
    // Called directly: conv2d_backward_weight runs the 4x4 stride-2 layers as Winograd.
    std::vector<float> workspace(cpu::lane_weight_gradient_workspace_floats(g),
                                 std::numeric_limits<float>::quiet_NaN());
    std::vector<float> written(taps, std::numeric_limits<float>::quiet_NaN()), added = uniform(taps, rng);
    const std::vector<float> before = added;
    cpu::lane_weight_gradient(written.data(), dout.data(), in.data(), g, workspace.data(), false);
    cpu::lane_weight_gradient(added.data(), dout.data(), in.data(), g, workspace.data(), true);
    for (size_t f = 0; f < taps; ++f) {
      ASSERT_LE(std::abs(written[f] - want[f]), 1e-6 * magnitude[f] + 1e-30) << where << " written at " << f;
      ASSERT_LE(std::abs(static_cast<double>(added[f]) - before[f] - want[f]), 1e-6 * magnitude[f] + 1e-6)
          << where << " added at " << f;
    }
  }
}
