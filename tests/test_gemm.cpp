// The CPU GEMM against a double-precision reference. Inputs are small integers
// (-3..3), so every fp32 partial sum is an exact integer and the kernel must match
// the reference bit for bit whatever its blocking, summation order or thread split.
// Leading dimensions carry padding that must come back untouched, which catches
// stores past the edge of a tile.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"

using namespace cfgan;

namespace {

struct GemmCase {
  bool trans_a = false, trans_b = false;
  int64_t m = 1, n = 1, k = 1;
  float alpha = 1.0f, beta = 0.0f;
  int64_t pad = 0;        // extra columns in every leading dimension
  int64_t batch = 1;      // matrices are `pad` floats apart on top of their size
  bool shared_c = false;  // stride_c = 0: the batch's products sum into one C
};

// A GemmArgs with its buffers. C starts as NaN when beta == 0 (it must not be read).
struct Problem {
  GemmArgs args;
  std::vector<float> a, b, c;
};

Problem make_problem(const GemmCase& t, const std::function<float()>& value) {
  Problem p;
  GemmArgs& g = p.args;
  g.trans_a = t.trans_a, g.trans_b = t.trans_b;
  g.m = t.m, g.n = t.n, g.k = t.k;
  g.alpha = t.alpha, g.beta = t.beta;
  const int64_t a_rows = t.trans_a ? t.k : t.m, b_rows = t.trans_b ? t.n : t.k;
  g.lda = (t.trans_a ? t.m : t.k) + t.pad;
  g.ldb = (t.trans_b ? t.k : t.n) + t.pad;
  g.ldc = t.n + t.pad;
  g.batch = t.batch;
  g.stride_a = a_rows * g.lda + t.pad;
  g.stride_b = b_rows * g.ldb + t.pad;
  g.stride_c = t.shared_c ? 0 : t.m * g.ldc + t.pad;
  p.a.resize(g.stride_a * t.batch);
  p.b.resize(g.stride_b * t.batch);
  p.c.resize(t.shared_c ? t.m * g.ldc : g.stride_c * t.batch);
  for (float& x : p.a) x = value();
  for (float& x : p.b) x = value();
  for (float& x : p.c) x = t.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : value();
  g.a = p.a.data(), g.b = p.b.data(), g.c = p.c.data();
  return p;
}

// Expected C buffer in double, padding included (it keeps its initial values). The
// products apply in batch order, each to what the previous left in its C.
// `magnitude` receives |alpha| sum |a||b| + |beta c|, the scale of the rounding error.
std::vector<double> reference(const Problem& p, std::vector<double>* magnitude = nullptr) {
  const GemmArgs& g = p.args;
  std::vector<double> want(p.c.begin(), p.c.end());
  if (magnitude) magnitude->assign(p.c.size(), 0.0);
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const float* a = p.a.data() + bi * g.stride_a;
    const float* b = p.b.data() + bi * g.stride_b;
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        double sum = 0.0, abs_sum = 0.0;
        for (int64_t k = 0; k < g.k; ++k) {
          const double x = g.trans_a ? a[k * g.lda + i] : a[i * g.lda + k];
          const double y = g.trans_b ? b[j * g.ldb + k] : b[k * g.ldb + j];
          sum += x * y;
          abs_sum += std::abs(x * y);
        }
        const size_t at = bi * g.stride_c + i * g.ldc + j;
        const double c0 = g.beta == 0.0f ? 0.0 : double(g.beta) * want[at];
        want[at] = double(g.alpha) * sum + c0;
        if (magnitude) (*magnitude)[at] = std::abs(double(g.alpha)) * abs_sum + std::abs(c0);
      }
    }
  }
  return want;
}

bool same(float got, double want) { return std::isnan(want) ? std::isnan(got) : double(got) == want; }

std::string describe(const GemmCase& t) {
  return "trans_a=" + std::to_string(t.trans_a) + " trans_b=" + std::to_string(t.trans_b) +
         " m=" + std::to_string(t.m) + " n=" + std::to_string(t.n) + " k=" + std::to_string(t.k) +
         " alpha=" + std::to_string(t.alpha) + " beta=" + std::to_string(t.beta) + " pad=" + std::to_string(t.pad) +
         " batch=" + std::to_string(t.batch);
}

std::function<float()> small_integers(uint32_t seed) {
  auto rng = std::make_shared<std::mt19937>(seed);
  return [rng] { return float(std::uniform_int_distribution<int>(-3, 3)(*rng)); };
}

// Runs the case and requires every element of the C buffer to equal the reference.
void expect_exact(const GemmCase& t, uint32_t seed = 1) {
  Problem p = make_problem(t, small_integers(seed));
  const std::vector<double> want = reference(p);
  cpu_kernels().gemm(p.args);
  for (size_t i = 0; i < want.size(); ++i) {
    if (!same(p.c[i], want[i])) {
      ADD_FAILURE() << describe(t) << ": C buffer element " << i << " is " << p.c[i] << ", expected " << want[i];
      return;
    }
  }
}

const int64_t kSizes[] = {1, 2, 5, 7, 13, 31, 100, 129};

}  // namespace

TEST(Gemm, AllTransposesAndSizes) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int64_t m : kSizes) {
        for (int64_t n : kSizes) {
          for (int64_t k : kSizes) expect_exact({.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k});
        }
      }
    }
  }
}

TEST(Gemm, PaddedLeadingDimensions) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int64_t pad : {1, 3, 16}) {
        for (int64_t size : {5, 31, 100}) {
          expect_exact({.trans_a = ta, .trans_b = tb, .m = size, .n = size + 2, .k = size + 1, .pad = pad});
        }
      }
    }
  }
}

TEST(Gemm, AlphaAndBeta) {
  for (float alpha : {1.0f, -2.0f, 0.5f}) {
    for (float beta : {0.0f, 1.0f, -1.0f, 2.0f}) {
      for (int64_t size : {7, 129}) {
        expect_exact({.m = size, .n = size, .k = size, .alpha = alpha, .beta = beta, .pad = 2});
        expect_exact({.trans_a = true, .trans_b = true, .m = 13, .n = size, .k = 31, .alpha = alpha, .beta = beta});
      }
    }
  }
}

TEST(Gemm, BetaZeroOverwritesNaN) {
  // make_problem fills C with NaN when beta == 0; a kernel that reads C leaks it.
  for (int64_t k : {1, 16, 700}) expect_exact({.m = 31, .n = 100, .k = k, .beta = 0.0f, .pad = 3});
}

TEST(Gemm, EmptyReductionScalesC) {
  for (float beta : {0.0f, 1.0f, -2.0f}) {
    expect_exact({.m = 13, .n = 7, .k = 0, .beta = beta, .pad = 1});
    expect_exact({.m = 5, .n = 100, .k = 0, .alpha = 3.0f, .beta = beta, .batch = 2});
  }
}

TEST(Gemm, AlphaZeroScalesC) {
  for (float beta : {0.0f, 0.5f}) expect_exact({.m = 13, .n = 31, .k = 5, .alpha = 0.0f, .beta = beta});
}

TEST(Gemm, EmptyOutputTouchesNothing) {
  for (int64_t m : {0, 3}) expect_exact({.m = m, .n = 3 - m, .k = 4, .beta = 1.0f, .pad = 2});
}

TEST(Gemm, BlockBoundaries) {
  // Long k (several k blocks, later ones accumulating), wide n (several B blocks) and
  // tall m (several A blocks).
  expect_exact({.m = 13, .n = 33, .k = 1000, .beta = 1.0f});
  expect_exact({.trans_a = true, .trans_b = true, .m = 29, .n = 17, .k = 777, .beta = 0.0f});
  expect_exact({.m = 20, .n = 1500, .k = 400, .alpha = -1.0f, .beta = 2.0f, .pad = 5});
  expect_exact({.trans_b = true, .m = 3000, .n = 40, .k = 400});
}

TEST(Gemm, Batched) {
  for (int64_t batch : {2, 3, 8}) {
    for (bool ta : {false, true}) {
      expect_exact({.trans_a = ta, .m = 13, .n = 31, .k = 7, .beta = 1.0f, .pad = 2, .batch = batch});
      expect_exact({.trans_a = ta, .trans_b = true, .m = 100, .n = 129, .k = 100, .pad = 1, .batch = batch});
    }
  }
}

TEST(Gemm, BatchSummingIntoOneC) {
  // stride_c == 0 accumulates the batch's products, in order, into one C.
  for (int64_t batch : {2, 8}) {
    expect_exact({.m = 13, .n = 31, .k = 7, .beta = 1.0f, .batch = batch, .shared_c = true});
    expect_exact({.trans_b = true, .m = 100, .n = 129, .k = 100, .beta = 1.0f, .batch = batch, .shared_c = true});
  }
}

TEST(Gemm, ThreadCountsAgree) {
  // Every thread count splits the work differently; integer inputs make the results identical.
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    expect_exact({.m = 64, .n = 12544 / 8, .k = 16});
    expect_exact({.trans_b = true, .m = 64, .n = 16, .k = 3000, .beta = 1.0f});
    expect_exact({.trans_a = true, .m = 16, .n = 1000, .k = 64});
    expect_exact({.trans_a = true, .trans_b = true, .m = 129, .n = 100, .k = 129, .beta = -1.0f, .batch = 3});
    expect_exact({.trans_a = true, .m = 1, .n = 20000, .k = 64, .beta = 1.0f});
    expect_exact({.m = 3000, .n = 1, .k = 300, .pad = 1});
    expect_exact({.m = 64, .n = 196, .k = 64, .beta = 1.0f, .batch = 8, .shared_c = true});
  }
  omp_set_num_threads(saved);
}

TEST(Gemm, RandomFloatsWithinRoundingBound) {
  // Real-valued inputs round differently in every summation order, so the result is
  // checked against the standard bound for a length-k dot product (Higham, "Accuracy
  // and Stability of Numerical Algorithms", 3.1): |error| <= gamma_(k+2) * magnitude,
  // gamma_j = j u / (1 - j u), with k + 2 covering the alpha and beta roundings.
  auto rng = std::make_shared<std::mt19937>(7);
  const std::function<float()> uniform = [rng] { return std::uniform_real_distribution<float>(-1, 1)(*rng); };
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const GemmCase t{
          .trans_a = ta, .trans_b = tb, .m = 100, .n = 129, .k = 513, .alpha = 0.7f, .beta = -1.3f, .pad = 1};
      Problem p = make_problem(t, uniform);
      std::vector<double> magnitude;
      const std::vector<double> want = reference(p, &magnitude);
      cpu_kernels().gemm(p.args);
      const double u = std::ldexp(1.0, -24), j = double(t.k + 2);
      const double gamma = j * u / (1 - j * u);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_LE(std::abs(p.c[i] - want[i]), gamma * magnitude[i]) << describe(t) << " element " << i;
      }
    }
  }
}

namespace {

// Direct convolution loops, the reference for the GEMM lowering in kernels/cpu/conv.cpp.
// Calls visit(n, k, p, q, c, r, s, input index) for every in-bounds tap.
template <class F>
void for_each_tap(const ConvGeom& g, F&& visit) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k)
      for (int64_t p = 0; p < g.p; ++p)
        for (int64_t q = 0; q < g.q; ++q)
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t r = 0; r < g.r; ++r)
              for (int64_t s = 0; s < g.s; ++s) {
                const int64_t y = p * g.stride_h - g.pad_h + r, x = q * g.stride_w - g.pad_w + s;
                if (y >= 0 && y < g.h && x >= 0 && x < g.w)
                  visit(n, k, p, q, c, r, s, ((n * g.c + c) * g.h + y) * g.w + x);
              }
}

ConvGeom conv_geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s, int64_t stride,
                       int64_t pad) {
  ConvGeom g{};
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = s;
  g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
  g.p = (h + 2 * pad - r) / stride + 1;
  g.q = (w + 2 * pad - s) / stride + 1;
  return g;
}

std::vector<float> integers(size_t n, const std::function<float()>& value) {
  std::vector<float> v(n);
  for (float& x : v) x = value();
  return v;
}

}  // namespace

TEST(Gemm, ConvolutionLowering) {
  // The conv kernels are GEMMs over im2col's column matrix; both the whole-batch lowering
  // (small P*Q) and the per-image one (P*Q >= 128) must equal direct loops exactly,
  // and the backward kernels must add to what the gradient buffers already hold.
  const ConvGeom geometries[] = {
      conv_geometry(2, 3, 5, 7, 2, 3, 3, 1, 1),    // 5x7 outputs: whole batch
      conv_geometry(3, 2, 28, 28, 5, 4, 4, 2, 1),  // 14x14: per image, DCGAN-like
      conv_geometry(2, 1, 16, 20, 3, 3, 5, 1, 2),  // 18x20: per image, wide padding
      conv_geometry(2, 4, 9, 11, 3, 4, 3, 2, 0),   // strided, no padding, odd sizes
      conv_geometry(2, 1, 31, 29, 2, 4, 4, 2, 1),  // 15x14 = 210: per image, stride 2
      // Packed from the image: output rows longer than one vector (35 columns: runs of
      // 16, 16, 3), reads past the first input vector (stride 2, 70 wide), a reduction
      // over two k blocks (C*R*S = 480) with a ragged last panel, and stride 3, which
      // copies element by element.
      conv_geometry(2, 3, 40, 70, 3, 3, 3, 2, 1),
      conv_geometry(3, 30, 9, 9, 20, 4, 4, 2, 1),
      conv_geometry(2, 2, 13, 14, 3, 3, 3, 3, 1),
      // 70 images of 4x4 outputs: the input gradient's chunks of ~1024 columns split
      // them in two, each with its own offset into dout and din.
      conv_geometry(70, 2, 8, 8, 3, 4, 4, 2, 1),
      // Kernels covering the whole unpadded input at one output position: dense layers.
      conv_geometry(5, 6, 4, 4, 3, 4, 4, 1, 0),
      conv_geometry(3, 2, 3, 5, 7, 3, 5, 2, 0),
  };
  const Kernels& kern = cpu_kernels();
  for (const ConvGeom& g : geometries) {
    const std::function<float()> value = small_integers(3);
    const std::vector<float> in = integers(g.n * g.c * g.h * g.w, value);
    const std::vector<float> weight = integers(g.k * g.c * g.r * g.s, value);
    const std::vector<float> dout = integers(g.n * g.k * g.p * g.q, value);
    std::vector<float> workspace(kern.conv_workspace_floats(g));
    const auto out_index = [&](int64_t n, int64_t k, int64_t p, int64_t q) {
      return ((n * g.k + k) * g.p + p) * g.q + q;
    };
    const auto w_index = [&](int64_t k, int64_t c, int64_t r, int64_t s) {
      return ((k * g.c + c) * g.r + r) * g.s + s;
    };
    const std::string where = "conv n=" + std::to_string(g.n) + " c=" + std::to_string(g.c) +
                              " h=" + std::to_string(g.h) + " w=" + std::to_string(g.w) + " k=" + std::to_string(g.k);

    std::vector<float> out(dout.size(), std::numeric_limits<float>::quiet_NaN()), want_out(dout.size(), 0.0f);
    for_each_tap(g, [&](auto n, auto k, auto p, auto q, auto c, auto r, auto s, int64_t at) {
      want_out[out_index(n, k, p, q)] += in[at] * weight[w_index(k, c, r, s)];
    });
    kern.conv2d_forward(out.data(), in.data(), weight.data(), g, workspace.data());
    EXPECT_EQ(out, want_out) << where << " forward";

    // The two gradients alone, summed from 0 (small integers: exact in any order).
    std::vector<float> din_sum(in.size(), 0.0f), dweight_sum(weight.size(), 0.0f);
    for_each_tap(g, [&](auto n, auto k, auto p, auto q, auto c, auto r, auto s, int64_t at) {
      din_sum[at] += dout[out_index(n, k, p, q)] * weight[w_index(k, c, r, s)];
      dweight_sum[w_index(k, c, r, s)] += dout[out_index(n, k, p, q)] * in[at];
    });
    // Each gradient pass added into integers, and written over NaN (the old contents unread).
    const auto check_gradient = [&](const char* what, const std::vector<float>& sum, auto pass) {
      std::vector<float> added = integers(sum.size(), value), want = added;
      for (size_t i = 0; i < sum.size(); ++i) want[i] += sum[i];
      pass(added.data(), true);
      EXPECT_EQ(added, want) << where << " " << what;
      std::vector<float> written(sum.size(), std::numeric_limits<float>::quiet_NaN());
      pass(written.data(), false);
      EXPECT_EQ(written, sum) << where << " " << what << ", written";
    };
    check_gradient("input gradient", din_sum, [&](float* din, bool accumulate) {
      kern.conv2d_backward_input(din, dout.data(), weight.data(), g, workspace.data(), accumulate);
    });
    check_gradient("weight gradient", dweight_sum, [&](float* dweight, bool accumulate) {
      kern.conv2d_backward_weight(dweight, dout.data(), in.data(), g, workspace.data(), accumulate);
    });
  }
}
