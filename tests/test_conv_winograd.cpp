// The CPU backend's Winograd convolutions (4x4 kernels, stride 2, padding 1, batch and
// channels in multiples of 16: the forward, the input gradient and the weight gradient)
// against double-precision direct sums. Winograd products are not exact sums in another
// order, so unlike the other convolution tests these compare with a tolerance: each result
// may be off by 1e-5 of the sum of its terms' magnitudes. Measured worst cases over these
// geometries: forward 6.6e-7 of it, input gradient 2.7e-6, weight gradient 1.8e-7 (FP32's
// unit roundoff is 6e-8 and the transforms scale values by up to 8 and 1/24), so the bound
// has 3.7x headroom or more, while a wrong transform coefficient, tile edge or phase moves
// results by 1e-2 of it or more.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/conv_winograd.h"
#include "kernels/kernels.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::uniform;

namespace {

ConvGeom winograd_geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k) {
  ConvGeom g{};
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = g.s = 4;
  g.stride_h = g.stride_w = 2, g.pad_h = g.pad_w = 1;
  g.p = h / 2, g.q = w / 2;
  return g;
}

// Sums of products in double, and of their magnitudes (the scale of each result's error).
struct Reference {
  std::vector<double> sum, magnitude;
  explicit Reference(size_t n) : sum(n, 0.0), magnitude(n, 0.0) {}
  void add(size_t i, double a, double b) {
    sum[i] += a * b;
    magnitude[i] += std::abs(a * b);
  }
};

// got[i] - base[i] against reference i, for every i.
void expect_near(const std::vector<float>& got, const std::vector<float>& base, const Reference& want,
                 const std::string& what) {
  for (size_t i = 0; i < got.size(); ++i) {
    const double error = std::abs(static_cast<double>(got[i]) - base[i] - want.sum[i]);
    ASSERT_LE(error, 1e-5 * want.magnitude[i] + 1e-30) << what << " at " << i << ": " << got[i] - base[i]
                                                       << " against " << want.sum[i];
  }
}

}  // namespace

TEST(ConvWinograd, TakesTheStrideTwoFourByFourLayersWithWideChannels) {
  const ConvGeom dcgan = winograd_geometry(64, 64, 14, 14, 128);
  EXPECT_TRUE(cpu::winograd_applies(dcgan));
  ConvGeom g = dcgan;
  g.c = 1;  // the image layers keep the direct path
  EXPECT_FALSE(cpu::winograd_applies(g));
  g = dcgan, g.k = 40;
  EXPECT_FALSE(cpu::winograd_applies(g));
  g = dcgan, g.n = 40;  // the transforms run over 16 images at once
  EXPECT_FALSE(cpu::winograd_applies(g));
  g = dcgan, g.precision = MatmulPrecision::bf16;  // rounded operands keep their kernels
  EXPECT_FALSE(cpu::winograd_applies(g));
  g = dcgan, g.stride_h = g.stride_w = 1, g.p = g.q = 13;
  EXPECT_FALSE(cpu::winograd_applies(g));
  g = winograd_geometry(16, 16, 15, 14, 16);  // odd height: the phases would differ in size
  g.p = 7;
  EXPECT_FALSE(cpu::winograd_applies(g));
}

TEST(ConvWinograd, MatchesDirectSums) {
  const ConvGeom geometries[] = {
      winograd_geometry(16, 16, 14, 14, 32),  // DCGAN's 7x7 layer: ragged last tiles
      winograd_geometry(32, 32, 16, 8, 16),   // 8x4 outputs: whole tiles, two chunks of slots
      winograd_geometry(16, 16, 2, 6, 16),    // 1x3 outputs: one ragged tile, half a chunk
      winograd_geometry(16, 48, 20, 26, 32),  // 10x13: tiles ragged in both directions
      winograd_geometry(16, 16, 14, 30, 16),  // 7x15: the input gradient's phases share tiles
      winograd_geometry(16, 16, 14, 16, 16),  // 7x8: they do not (8 columns)
      winograd_geometry(16, 16, 34, 34, 16),  // 17x17: 400 tiles, the weight gradient's sums in two blocks
      winograd_geometry(80, 16, 6, 6, 16),    // 80 images: the weight gradient sums 64, then adds 16
  };
  const Kernels& kern = cpu_kernels();
  std::mt19937 rng(7);
  for (const ConvGeom& g : geometries) {
    ASSERT_TRUE(cpu::winograd_applies(g));
    const std::vector<float> in = uniform(g.n * g.c * g.h * g.w, rng);
    const std::vector<float> weight = uniform(g.k * g.c * 16, rng);
    const std::vector<float> dout = uniform(g.n * g.k * g.p * g.q, rng);
    Reference out_ref(dout.size()), din_ref(in.size()), dweight_ref(weight.size());
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t k = 0; k < g.k; ++k) {
        for (int64_t p = 0; p < g.p; ++p) {
          for (int64_t q = 0; q < g.q; ++q) {
            const size_t o = ((n * g.k + k) * g.p + p) * g.q + q;
            for (int64_t c = 0; c < g.c; ++c) {
              for (int64_t r = 0; r < 4; ++r) {
                for (int64_t s = 0; s < 4; ++s) {
                  const int64_t y = 2 * p - 1 + r, x = 2 * q - 1 + s;
                  if (y < 0 || y >= g.h || x < 0 || x >= g.w) continue;
                  const size_t i = ((n * g.c + c) * g.h + y) * g.w + x, f = ((k * g.c + c) * 4 + r) * 4 + s;
                  out_ref.add(o, in[i], weight[f]);
                  din_ref.add(i, dout[o], weight[f]);
                  dweight_ref.add(f, dout[o], in[i]);
                }
              }
            }
          }
        }
      }
    }
    const std::string where = "n=" + std::to_string(g.n) + " c=" + std::to_string(g.c) + " " + std::to_string(g.h) +
                              "x" + std::to_string(g.w) + " k=" + std::to_string(g.k);
    std::vector<float> workspace(kern.conv_workspace_floats(g));
    const float nan = std::numeric_limits<float>::quiet_NaN();

    std::vector<float> out(dout.size(), nan);
    kern.conv2d_forward(out.data(), in.data(), weight.data(), g, workspace.data());
    expect_near(out, std::vector<float>(out.size(), 0.0f), out_ref, where + " forward");

    // Each gradient written over NaN (nothing read), then added onto values.
    const auto check_gradient = [&](const char* what, const Reference& want, auto pass) {
      std::vector<float> written(want.sum.size(), nan), added = uniform(want.sum.size(), rng);
      const std::vector<float> before = added;
      pass(written.data(), false);
      expect_near(written, std::vector<float>(written.size(), 0.0f), want, where + " " + what);
      pass(added.data(), true);
      expect_near(added, before, want, where + " " + what + ", added");
    };
    check_gradient("input gradient", din_ref, [&](float* din, bool accumulate) {
      kern.conv2d_backward_input(din, dout.data(), weight.data(), g, workspace.data(), accumulate);
    });
    check_gradient("weight gradient", dweight_ref, [&](float* dweight, bool accumulate) {
      kern.conv2d_backward_weight(dweight, dout.data(), in.data(), g, workspace.data(), accumulate);
    });
  }
}
