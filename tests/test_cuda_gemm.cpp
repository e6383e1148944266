// CudaParity for gemm: every transpose combination over awkward sizes (1, 5, 7, 13, 129
// and larger non-multiples of the tiles), padded leading dimensions, alpha / beta with
// beta = 0 over a NaN-filled C, and batches large enough for the large tile. Inputs are small integers, so every fp32 sum is exact
// whatever the order and results must equal the CPU's bit for bit; one random-float
// case states its tolerance.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct GemmCase {
  bool trans_a = false, trans_b = false;
  int64_t m = 1, n = 1, k = 1;
  float alpha = 1.0f, beta = 0.0f;
  int64_t ld_pad = 0;  // added to every leading dimension
  int64_t batch = 1;
  int64_t misalign = 0;  // floats A, B and C start past a 16-byte boundary
  MatmulPrecision precision = MatmulPrecision::fp32;
};

std::string describe(const GemmCase& c) {
  return std::string(c.trans_a ? "T" : "N") + (c.trans_b ? "T" : "N") + " m=" + std::to_string(c.m) +
         " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta) + " ld_pad=" + std::to_string(c.ld_pad) +
         " batch=" + std::to_string(c.batch) + " misalign=" + std::to_string(c.misalign) + " " +
         precision_name(c.precision);
}

// Floats spanned by `batch` (rows x ld) matrices `stride` apart, plus the misalignment.
int64_t extent(const GemmCase& c, int64_t rows, int64_t ld, int64_t stride) {
  return c.misalign + (c.batch - 1) * stride + rows * ld;
}

// Runs the case on both backends and compares all of C (padding included: elements
// the product must not touch keep their initial values on both). atol = rtol = 0 is
// bit equality (up to the sign of zero).
void check_gemm(const Kernels& cuda, const GemmCase& c, bool integers, float atol, float rtol) {
  SCOPED_TRACE(describe(c));
  GemmArgs g;
  g.trans_a = c.trans_a, g.trans_b = c.trans_b;
  g.m = c.m, g.n = c.n, g.k = c.k;
  g.alpha = c.alpha, g.beta = c.beta;
  g.precision = c.precision;
  const int64_t a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
  const int64_t b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
  g.lda = a_cols + c.ld_pad, g.ldb = b_cols + c.ld_pad, g.ldc = c.n + c.ld_pad;
  g.batch = c.batch;
  // Gaps between the products of a batch (an odd number of floats) catch writes past one.
  g.stride_a = a_rows * g.lda + 3, g.stride_b = b_rows * g.ldb + 5, g.stride_c = c.m * g.ldc + 7;

  const float lo = integers ? -3.0f : -1.0f, hi = integers ? 3.0f : 1.0f;
  const std::vector<float> a = random_values(extent(c, a_rows, g.lda, g.stride_a), lo, hi, 1, integers);
  const std::vector<float> b = random_values(extent(c, b_rows, g.ldb, g.stride_b), lo, hi, 2, integers);
  const int64_t c_size = extent(c, c.m, g.ldc, g.stride_c);
  const std::vector<float> c0 = c.beta == 0.0f ? std::vector<float>(c_size, std::numeric_limits<float>::quiet_NaN())
                                               : random_values(c_size, lo, hi, 3, integers);

  std::vector<float> expected = c0;
  GemmArgs on_cpu = g;
  on_cpu.a = a.data() + c.misalign, on_cpu.b = b.data() + c.misalign, on_cpu.c = expected.data() + c.misalign;
  cpu_kernels().gemm(on_cpu);

  GuardedBuffer<float> da(cuda, a), db(cuda, b), dc(cuda, c0);
  GemmArgs on_cuda = g;
  on_cuda.a = da.data() + c.misalign, on_cuda.b = db.data() + c.misalign, on_cuda.c = dc.data() + c.misalign;
  cuda.gemm(on_cuda);
  cuda.synchronize();
  expect_close(dc.read("C"), expected, atol, rtol, "gemm C");
}

// (alpha, beta) pairs that keep integer products exact; beta = 0 runs over NaN.
constexpr float kScales[][2] = {{1.0f, 0.0f}, {-2.0f, 1.0f}, {0.5f, -1.5f}, {1.0f, 1.0f}};

}  // namespace

TEST_P(CudaParity, Gemm) {
  const int64_t sizes[] = {1, 5, 7, 13, 129};
  int index = 0;
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      for (int64_t m : sizes) {
        for (int64_t n : sizes) {
          for (int64_t k : sizes) {
            const auto& scale = kScales[index % 4];
            // Pads of 0 and 3 make some leading dimensions multiples of 4 (float4
            // loads) and leave others odd.
            check_gemm(cuda(), {trans_a, trans_b, m, n, k, scale[0], scale[1], index % 3 == 0 ? 3 : 0}, true, 0, 0);
            ++index;
          }
        }
      }
    }
  }
}

TEST_P(CudaParity, GemmLargerShapes) {
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      // One product through the small tile, split over two tiles each way, ragged K.
      check_gemm(cuda(), {trans_a, trans_b, 130, 67, 200, 1.0f, 0.0f, 0}, true, 0, 0);
      check_gemm(cuda(), {trans_a, trans_b, 130, 67, 200, -2.0f, 1.0f, 2}, true, 0, 0);
      // 33 products of two by two large tiles: enough tiles for the 128x128 kernel.
      check_gemm(cuda(), {trans_a, trans_b, 130, 131, 21, 0.5f, -1.5f, 0, 33}, true, 0, 0);
      check_gemm(cuda(), {trans_a, trans_b, 257, 129, 9, 1.0f, 0.0f, 1, 9}, true, 0, 0);
      // GEMV-like: one warp per element, long K.
      check_gemm(cuda(), {trans_a, trans_b, 3, 70, 300, 1.0f, 1.0f, 1, 2}, true, 0, 0);
      check_gemm(cuda(), {trans_a, trans_b, 64, 1, 1000, 1.0f, 0.0f, 0}, true, 0, 0);
      // Aligned leading dimensions but misaligned pointers: no float4 access allowed.
      check_gemm(cuda(), {trans_a, trans_b, 64, 68, 36, 1.0f, 1.0f, 0, 2, 1}, true, 0, 0);
    }
  }
}

TEST_P(CudaParity, GemmEdgeCases) {
  check_gemm(cuda(), {false, false, 5, 7, 0, 1.0f, 0.0f}, true, 0, 0);   // K = 0: C = 0
  check_gemm(cuda(), {true, false, 5, 7, 0, 2.0f, -1.5f}, true, 0, 0);   // K = 0: C = beta C
  check_gemm(cuda(), {false, true, 0, 7, 5, 1.0f, 1.0f}, true, 0, 0);    // M = 0: nothing
  check_gemm(cuda(), {false, false, 6, 0, 5, 1.0f, 0.0f}, true, 0, 0);   // N = 0: nothing
}

// Random floats: the CUDA kernels sum in another order than the CPU (tiles, FMA on
// the device), so results differ by rounding. With K = 256 products of values in
// [-1, 1] each sum carries at most about K * 2^-24 * sum|a b| ~ 1e-3 of error and in
// practice (random signs) sqrt(K) * 2^-24 * sum|a b| ~ 6e-5; atol 2e-4 allows three
// times that.
TEST_P(CudaParity, GemmRandomFloats) {
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      check_gemm(cuda(), {trans_a, trans_b, 150, 140, 256, 0.75f, 0.5f, 1, 2}, false, 2e-4f, 0);
    }
  }
}

// TF32 and BF16 on the tensor cores (mma_gemm_kernel) and in the dot kernel, against the
// CPU rounding the same way. Small integers are exact in both formats, so these sums are
// exact and must match bit for bit: this checks the fragment layouts, tiling, edges,
// split-K and the epilogue's alpha / beta.
TEST_P(CudaParity, GemmTensorCores) {
  int index = 0;
  for (MatmulPrecision p : {MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    for (bool trans_a : {false, true}) {
      for (bool trans_b : {false, true}) {
        for (int64_t m : {1, 7, 129}) {
          for (int64_t n : {1, 7, 129}) {
            for (int64_t k : {5, 129}) {
              const auto& scale = kScales[index % 4];
              GemmCase c{trans_a, trans_b, m, n, k, scale[0], scale[1], index % 3 == 0 ? 3 : 0};
              c.precision = p;
              check_gemm(cuda(), c, true, 0, 0);
              ++index;
            }
          }
        }
        GemmCase batched{trans_a, trans_b, 130, 131, 21, 0.5f, -1.5f, 0, 3};  // two by two tiles, three products
        batched.precision = p;
        check_gemm(cuda(), batched, true, 0, 0);
        GemmCase deep{trans_a, trans_b, 20, 30, 600, 1.0f, 1.0f, 1};  // one tile, split along K
        deep.precision = p;
        check_gemm(cuda(), deep, true, 0, 0);
      }
    }
  }
}

// Random floats: both sides multiply the same rounded operands, whose products are exact
// in FP32, and sum them in FP32 in different orders, so the FP32 bound of
// GemmRandomFloats holds unchanged. A kernel that skipped or truncated the rounding would
// be off by about sqrt(K) * 2^-12 * |a b| ~ 1e-3 (TF32) or 2^-9 (BF16), well past it.
TEST_P(CudaParity, GemmTensorCoresRandomFloats) {
  for (MatmulPrecision p : {MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    for (bool trans_a : {false, true}) {
      for (bool trans_b : {false, true}) {
        GemmCase tile{trans_a, trans_b, 150, 140, 256, 0.75f, 0.5f, 1, 2};
        tile.precision = p;
        check_gemm(cuda(), tile, false, 2e-4f, 0);
        GemmCase dot{trans_a, trans_b, 3, 70, 300, 1.0f, 1.0f, 1};  // the GEMV-like kernel
        dot.precision = p;
        check_gemm(cuda(), dot, false, 2e-4f, 0);
      }
    }
  }
}
