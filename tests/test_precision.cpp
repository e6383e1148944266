// Tensor-core precisions on the CPU reference (kernels/precision.h): the rounding of one
// operand bit for bit as the GPU's conversions define it, and GEMMs and convolutions in
// TF32 / BF16 equal to the FP32 kernels run on operands rounded beforehand, bit for bit:
// rounding at packing time must round every operand once, wherever the GEMM reads it from
// (packed A and B, the unpacked B fast path, the vector kernel, the conv's implicit panels;
// on AVX-512 BF16 CPUs, BF16 runs the pair micro-kernels, which must sum in the same order);
// and the engine's set_matmul_precision reaching the ops' forward and backward products.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "kernels/kernels.h"
#include "tests/cuda_parity.h"

using namespace cfgan;

namespace {

float bits(uint32_t b) { return std::bit_cast<float>(b); }

std::vector<float> random_floats(int64_t n, uint64_t seed) {
  return cfgan::testing::random_values(n, -2.0f, 2.0f, seed);
}

std::vector<float> rounded(std::vector<float> v, MatmulPrecision p) {
  for (float& x : v) x = round_operand(x, p);
  return v;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

constexpr MatmulPrecision kTensorCorePrecisions[] = {MatmulPrecision::tf32, MatmulPrecision::bf16};

}  // namespace

TEST(Precision, Tf32RoundsToNearestTiesAwayFromZero) {
  // TF32 keeps 10 mantissa bits: one unit in the last place at 1.0 is 2^-10.
  const float ulp = std::ldexp(1.0f, -10);
  EXPECT_EQ(round_to_tf32(1.0f + std::ldexp(1.0f, -11)), 1.0f + ulp);      // a tie: away from zero
  EXPECT_EQ(round_to_tf32(-1.0f - std::ldexp(1.0f, -11)), -1.0f - ulp);    // and for negatives
  EXPECT_EQ(round_to_tf32(1.0f + 3 * std::ldexp(1.0f, -11)), 1.0f + 2 * ulp);  // a tie above an odd value
  EXPECT_EQ(round_to_tf32(bits(0x3f800fffu)), 1.0f);                        // just below the tie
  EXPECT_EQ(round_to_tf32(bits(0x3f801001u)), 1.0f + ulp);
  EXPECT_EQ(round_to_tf32(bits(0x00001000u)), bits(0x00002000u));          // subnormal tie
  EXPECT_EQ(round_to_tf32(bits(0x00000fffu)), 0.0f);
  EXPECT_EQ(round_to_tf32(std::numeric_limits<float>::max()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_tf32(-std::numeric_limits<float>::infinity()), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(round_to_tf32(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(std::bit_cast<uint32_t>(round_to_tf32(1.2345678f)) & 0x1fffu, 0u);
}

TEST(Precision, Bf16RoundsToNearestEven) {
  // BF16 keeps 7 mantissa bits: one unit in the last place at 1.0 is 2^-7.
  const float ulp = std::ldexp(1.0f, -7);
  EXPECT_EQ(round_to_bf16(1.0f + std::ldexp(1.0f, -8)), 1.0f);                // tie: down to the even 1.0
  EXPECT_EQ(round_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 1.0f + 2 * ulp);  // tie: up to the even neighbour
  EXPECT_EQ(round_to_bf16(-1.0f - 3 * std::ldexp(1.0f, -8)), -1.0f - 2 * ulp);
  EXPECT_EQ(round_to_bf16(bits(0x3f808001u)), 1.0f + ulp);                    // just past the tie
  EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::max()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_bf16(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
  // A NaN whose payload lies only in the dropped half must stay a NaN, not become infinity.
  EXPECT_TRUE(std::isnan(round_to_bf16(bits(0x7f800001u))));
  EXPECT_EQ(std::bit_cast<uint32_t>(round_to_bf16(3.14159f)) & 0xffffu, 0u);
}

// Shapes through every path of the CPU GEMM: the vector kernel (M or N of 1), packed A
// and B over several k blocks, the unpacked-B path (few row panels, non-transposed B),
// transposed operands, batches, alpha / beta.
TEST(Precision, GemmRoundsEveryOperandOnce) {
  struct Shape {
    bool ta, tb;
    int64_t m, n, k, batch;
    float alpha, beta;
  };
  const Shape shapes[] = {{false, false, 1, 70, 500, 1, 1.0f, 0.0f},  {false, true, 33, 1, 300, 1, 1.0f, 1.0f},
                          {false, false, 20, 64, 900, 1, 1.0f, 0.0f}, {true, false, 45, 37, 129, 1, 0.5f, -1.0f},
                          {true, true, 130, 67, 200, 3, 1.0f, 1.0f},  {false, false, 200, 300, 50, 1, 1.0f, 0.0f}};
  for (MatmulPrecision p : kTensorCorePrecisions) {
    for (const Shape& s : shapes) {
      const std::string where = std::string(precision_name(p)) + " m=" + std::to_string(s.m) +
                                " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k);
      GemmArgs g;
      g.trans_a = s.ta, g.trans_b = s.tb, g.m = s.m, g.n = s.n, g.k = s.k, g.alpha = s.alpha, g.beta = s.beta;
      g.lda = s.ta ? s.m : s.k, g.ldb = s.tb ? s.k : s.n, g.ldc = s.n;
      g.batch = s.batch, g.stride_a = s.m * s.k, g.stride_b = s.k * s.n, g.stride_c = s.m * s.n;
      const std::vector<float> a = random_floats(s.m * s.k * s.batch, 1), b = random_floats(s.k * s.n * s.batch, 2);
      const std::vector<float> c0 = random_floats(s.m * s.n * s.batch, 3);
      const std::vector<float> ar = rounded(a, p), br = rounded(b, p);

      std::vector<float> got = c0, want = c0, unrounded = c0;
      GemmArgs low = g;  // rounds inside
      low.precision = p, low.a = a.data(), low.b = b.data(), low.c = got.data();
      cpu_kernels().gemm(low);
      GemmArgs pre = g;  // FP32 on operands rounded beforehand
      pre.a = ar.data(), pre.b = br.data(), pre.c = want.data();
      cpu_kernels().gemm(pre);
      // With M or N of 1 the FP32 GEMM takes the vector kernel, which sums in another
      // order; there, and everywhere, the result must lie within FP32 summation error of
      // the exact product of the rounded operands: K * 2^-24 * sum|a b| (the products of
      // two rounded operands are exact in FP32), plus one rounding of beta * C.
      if (s.m > 1 && s.n > 1) {
        EXPECT_TRUE(bitwise_equal(got, want)) << where;
      }
      for (int64_t i = 0; i < s.batch; ++i) {
        for (int64_t r = 0; r < s.m; ++r) {
          for (int64_t col = 0; col < s.n; ++col) {
            double exact = 0, magnitude = 0;
            for (int64_t kk = 0; kk < s.k; ++kk) {
              const double x = ar[i * g.stride_a + (s.ta ? kk * g.lda + r : r * g.lda + kk)];
              const double y = br[i * g.stride_b + (s.tb ? col * g.ldb + kk : kk * g.ldb + col)];
              exact += x * y, magnitude += std::abs(x * y);
            }
            const int64_t at = i * g.stride_c + r * g.ldc + col;
            const double want_c = s.alpha * exact + s.beta * c0[at];
            const double bound = (s.k + 2) * std::ldexp(1.0, -24) * (std::abs(s.alpha) * magnitude + std::abs(s.beta * c0[at]));
            ASSERT_NEAR(got[at], want_c, bound) << where << " C(" << r << ", " << col << ")";
          }
        }
      }
      GemmArgs full = g;  // FP32: the rounding must show
      full.a = a.data(), full.b = b.data(), full.c = unrounded.data();
      cpu_kernels().gemm(full);
      EXPECT_FALSE(bitwise_equal(got, unrounded)) << where;
    }
  }
}

// The convolution's three passes pack their panels from the image (forward, weight
// gradient) or from dout (input gradient); each must round what it packs.
TEST(Precision, ConvolutionRoundsEveryOperandOnce) {
  const auto geometry = [](int64_t n, int64_t c, int64_t h, int64_t k, int64_t r, int64_t stride, int64_t pad) {
    ConvGeom g{};
    g.n = n, g.c = c, g.h = g.w = h, g.k = k, g.r = g.s = r;
    g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
    g.p = g.q = (h + 2 * pad - r) / stride + 1;
    return g;
  };
  const ConvGeom geometries[] = {geometry(2, 3, 7, 5, 3, 1, 1), geometry(3, 4, 28, 6, 4, 2, 1)};
  const Kernels& kern = cpu_kernels();
  for (MatmulPrecision p : kTensorCorePrecisions) {
    for (ConvGeom g : geometries) {
      const std::string where = std::string(precision_name(p)) + " h=" + std::to_string(g.h);
      const std::vector<float> in = random_floats(g.n * g.c * g.h * g.w, 4);
      const std::vector<float> weight = random_floats(g.k * g.c * g.r * g.s, 5);
      const std::vector<float> dout = random_floats(g.n * g.k * g.p * g.q, 6);
      const std::vector<float> in_r = rounded(in, p), weight_r = rounded(weight, p), dout_r = rounded(dout, p);
      ConvGeom low = g;
      low.precision = p;
      std::vector<float> ws(std::max(kern.conv_workspace_floats(g), kern.conv_workspace_floats(low)));

      std::vector<float> got(dout.size()), want(dout.size());
      kern.conv2d_forward(got.data(), in.data(), weight.data(), low, ws.data());
      kern.conv2d_forward(want.data(), in_r.data(), weight_r.data(), g, ws.data());
      EXPECT_TRUE(bitwise_equal(got, want)) << where << " forward";

      std::vector<float> din = random_floats(in.size(), 7), want_din = din;
      kern.conv2d_backward_input(din.data(), dout.data(), weight.data(), low, ws.data(), true);
      kern.conv2d_backward_input(want_din.data(), dout_r.data(), weight_r.data(), g, ws.data(), true);
      EXPECT_TRUE(bitwise_equal(din, want_din)) << where << " input gradient";

      std::vector<float> dw = random_floats(weight.size(), 8), want_dw = dw;
      kern.conv2d_backward_weight(dw.data(), dout.data(), in.data(), low, ws.data(), true);
      kern.conv2d_backward_weight(want_dw.data(), dout_r.data(), in_r.data(), g, ws.data(), true);
      EXPECT_TRUE(bitwise_equal(dw, want_dw)) << where << " weight gradient";
    }
  }
}

// A small network's forward and every gradient under set_matmul_precision(p) equal the
// FP32 network's on rounded inputs and weights for the first product of each layer:
// checked here on one conv and one linear, whose inputs are leaves (rounded beforehand),
// so every product's operands are the leaves or gout, both rounded once inside.
TEST(Precision, EngineOpsRunInTheChosenPrecision) {
  struct Restore {
    ~Restore() { set_matmul_precision(MatmulPrecision::fp32); }
  } restore;
  EXPECT_EQ(parse_matmul_precision("bf16"), MatmulPrecision::bf16);
  try {
    parse_matmul_precision("fp16");
    ADD_FAILURE() << "fp16 was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("--precision: expected fp32, tf32 or bf16, got 'fp16'"), std::string::npos)
        << e.what();
  }
  const std::vector<float> x = random_floats(2 * 3 * 9 * 9, 11), w = random_floats(4 * 3 * 3 * 3, 12);
  const std::vector<float> lx = random_floats(5 * 20, 13), lw = random_floats(7 * 20, 14);
  const std::vector<float> gy = random_floats(2 * 4 * 9 * 9, 15), lgy = random_floats(5 * 7, 16);
  for (MatmulPrecision p : kTensorCorePrecisions) {
    // Run once in precision p on the raw values, once in FP32 on rounded values with the
    // output gradient rounded too (the backward products' other operand).
    std::vector<std::vector<float>> results[2];
    for (int pass = 0; pass < 2; ++pass) {
      set_matmul_precision(pass == 0 ? p : MatmulPrecision::fp32);
      const auto prepare = [&](const std::vector<float>& v) { return pass == 0 ? v : rounded(v, p); };
      Tensor tx = Tensor::from_host({2, 3, 9, 9}, prepare(x)), tw = Tensor::from_host({4, 3, 3, 3}, prepare(w));
      Tensor ux = Tensor::from_host({5, 20}, prepare(lx)), uw = Tensor::from_host({7, 20}, prepare(lw));
      tx.requires_grad_(), tw.requires_grad_(), ux.requires_grad_(), uw.requires_grad_();
      Tensor y = conv2d(tx, tw, Tensor(), {1, 1});
      y.backward(Tensor::from_host({2, 4, 9, 9}, prepare(gy)));
      Tensor z = linear(ux, uw, Tensor());
      z.backward(Tensor::from_host({5, 7}, prepare(lgy)));
      results[pass] = {y.to_host(), tx.grad().to_host(), tw.grad().to_host(),
                       z.to_host(), ux.grad().to_host(), uw.grad().to_host()};
    }
    const char* names[] = {"conv out", "conv dx", "conv dw", "linear out", "linear dx", "linear dw"};
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(bitwise_equal(results[0][i], results[1][i])) << precision_name(p) << " " << names[i];
  }
}
