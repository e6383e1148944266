#include "kernels/cpu/gemm_vector.h"

#include <algorithm>

#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_simd.h"

namespace cfgan::cpu::gemm_detail {
namespace {

using V = Simd::V;
constexpr int W = Simd::width;

// y[r] = alpha * sum_p X(r, p) v[p] + beta * y[r] for r < rows, p < depth, where
// X(r, p) = x[r * row_stride + p * depth_stride]; one of the two strides is 1.
struct MatVec {
  int64_t rows, depth;
  const float* x;
  int64_t row_stride, depth_stride;
  const float* v;
  int64_t v_stride;
  float* y;
  int64_t y_stride;
  float alpha, beta;
};

void write_result(const MatVec& mv, int64_t r, float sum) {
  float& y = mv.y[r * mv.y_stride];
  y = mv.beta == 0.0f ? mv.alpha * sum : mv.alpha * sum + mv.beta * y;
}

// Rows contiguous in p: Rows dot products sharing each load of v (contiguous here).
template <int Rows>
void dot_rows(const MatVec& mv, const float* v, int64_t r) {
  V acc[Rows];
  unrolled<Rows>([&](auto i) { acc[i] = Simd::zero(); });
  int64_t p = 0;
  for (; p + W <= mv.depth; p += W) {
    const V vp = Simd::load(v + p);
    unrolled<Rows>([&](auto i) { acc[i] = Simd::fma(Simd::load(mv.x + (r + i) * mv.row_stride + p), vp, acc[i]); });
  }
  if (p < mv.depth) {
    const int lanes = static_cast<int>(mv.depth - p);
    const V vp = Simd::load_first(v + p, lanes);
    unrolled<Rows>(
        [&](auto i) { acc[i] = Simd::fma(Simd::load_first(mv.x + (r + i) * mv.row_stride + p, lanes), vp, acc[i]); });
  }
  unrolled<Rows>([&](auto i) { write_result(mv, r + i, Simd::sum(acc[i])); });
}

// Rows contiguous in r: y is a sum of scaled lines of X, kept in registers Vectors
// vectors at a time. Full: all Vectors * width rows exist.
template <int Vectors, bool Full>
void axpy_rows(const MatVec& mv, int64_t r) {
  const int64_t n = Full ? Vectors * W : std::min<int64_t>(Vectors * W, mv.rows - r);
  V acc[Vectors];
  unrolled<Vectors>([&](auto j) { acc[j] = Simd::zero(); });
  for (int64_t p = 0; p < mv.depth; ++p) {
    const V vp = Simd::set1(mv.v[p * mv.v_stride]);
    const float* line = mv.x + p * mv.depth_stride + r;
    unrolled<Vectors>([&](auto j) {
      if constexpr (Full) {
        acc[j] = Simd::fma(vp, Simd::load(line + j * W), acc[j]);
      } else {
        const int64_t lanes = std::clamp<int64_t>(n - j * W, 0, W);
        if (lanes > 0) acc[j] = Simd::fma(vp, Simd::load_first(line + j * W, static_cast<int>(lanes)), acc[j]);
      }
    });
  }
  float sums[Vectors * W];
  unrolled<Vectors>([&](auto j) { Simd::store(sums + j * W, acc[j]); });
  for (int64_t i = 0; i < n; ++i) write_result(mv, r + i, sums[i]);
}

// Rows [r0, r1) of the result.
void mat_vec_rows(const MatVec& mv, const float* contiguous_v, int64_t r0, int64_t r1) {
  constexpr int kDotRows = 4, kAxpyVectors = 4;
  if (mv.depth_stride == 1) {
    int64_t r = r0;
    for (; r + kDotRows <= r1; r += kDotRows) dot_rows<kDotRows>(mv, contiguous_v, r);
    for (; r < r1; ++r) dot_rows<1>(mv, contiguous_v, r);
  } else {
    int64_t r = r0;
    for (; r + kAxpyVectors * W <= r1; r += kAxpyVectors * W) axpy_rows<kAxpyVectors, true>(mv, r);
    if (r < r1) axpy_rows<kAxpyVectors, false>(mv, r);
  }
}

// Work is shared out in blocks of rows that are whole multiples of both forms' steps.
constexpr int64_t kRowBlock = 4 * 4 * W;

void mat_vec(const MatVec& mv, int threads) {
  const float* v = mv.v;
  if (mv.depth_stride == 1 && mv.v_stride != 1) {
    float* copy = thread_pack_buffers().b.get(mv.depth);
    for (int64_t p = 0; p < mv.depth; ++p) copy[p] = mv.v[p * mv.v_stride];
    v = copy;
  }
  const int64_t blocks = (mv.rows + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) mat_vec_rows(mv, v, b * kRowBlock, std::min(mv.rows, (b + 1) * kRowBlock));
}

}  // namespace

void gemm_vector(const GemmArgs& g, int threads) {
  for (int64_t i = 0; i < g.batch; ++i) {
    const float* a = g.a + i * g.stride_a;
    const float* b = g.b + i * g.stride_b;
    float* c = g.c + i * g.stride_c;
    MatVec mv;
    if (g.n == 1) {  // C column = op(A) (m x k) times the column op(B)
      mv = {.rows = g.m,
            .depth = g.k,
            .x = a,
            .row_stride = g.trans_a ? 1 : g.lda,
            .depth_stride = g.trans_a ? g.lda : 1,
            .v = b,
            .v_stride = g.trans_b ? 1 : g.ldb,
            .y = c,
            .y_stride = g.ldc,
            .alpha = g.alpha,
            .beta = g.beta};
    } else {  // C row = op(B)^T (n x k) times the row op(A)
      mv = {.rows = g.n,
            .depth = g.k,
            .x = b,
            .row_stride = g.trans_b ? g.ldb : 1,
            .depth_stride = g.trans_b ? 1 : g.ldb,
            .v = a,
            .v_stride = g.trans_a ? g.lda : 1,
            .y = c,
            .y_stride = 1,
            .alpha = g.alpha,
            .beta = g.beta};
    }
    mat_vec(mv, threads);
  }
}

}  // namespace cfgan::cpu::gemm_detail
