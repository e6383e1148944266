// Convolution as GEMM over the whole batch: the columns of all N images sit side by
// side, so one GEMM with N*P*Q columns replaces N thin ones (P*Q is 49 at DCGAN's
// 7x7 layer, far too narrow to fill a register tile per image).
//
// Workspace layout: col (C*R*S, N*P*Q) followed by a (K, N*P*Q) buffer holding the
// output / output-gradient with channels outermost.
#include <cstring>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

int64_t col_rows(const ConvGeom& g) { return g.c * g.r * g.s; }
int64_t col_cols(const ConvGeom& g) { return g.n * g.p * g.q; }

// col (C*R*S, N*P*Q) from in (N,C,H,W); zero where the window hangs over the padding.
void im2col(float* col, const float* in, const ConvGeom& g) {
  const int64_t pq = g.p * g.q, cols = col_cols(g);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t rs = 0; rs < g.r * g.s; ++rs) {
      const int64_t r = rs / g.s, s = rs % g.s;
      float* row = col + (c * g.r * g.s + rs) * cols;
      for (int64_t n = 0; n < g.n; ++n) {
        const float* plane = in + (n * g.c + c) * g.h * g.w;
        float* dst = row + n * pq;
        for (int64_t p = 0; p < g.p; ++p) {
          const int64_t y = p * g.stride_h - g.pad_h + r;
          float* d = dst + p * g.q;
          if (y < 0 || y >= g.h) {
            std::memset(d, 0, sizeof(float) * g.q);
            continue;
          }
          const float* src = plane + y * g.w;
          for (int64_t q = 0; q < g.q; ++q) {
            const int64_t x = q * g.stride_w - g.pad_w + s;
            d[q] = (x >= 0 && x < g.w) ? src[x] : 0.0f;
          }
        }
      }
    }
  }
}

// din (N,C,H,W) += col2im(col). Each thread owns whole input channels, so no two
// threads write the same element.
void col2im_accumulate(float* din, const float* col, const ConvGeom& g) {
  const int64_t pq = g.p * g.q, cols = col_cols(g);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t rs = 0; rs < g.r * g.s; ++rs) {
      const int64_t r = rs / g.s, s = rs % g.s;
      const float* row = col + (c * g.r * g.s + rs) * cols;
      for (int64_t n = 0; n < g.n; ++n) {
        float* plane = din + (n * g.c + c) * g.h * g.w;
        const float* src = row + n * pq;
        for (int64_t p = 0; p < g.p; ++p) {
          const int64_t y = p * g.stride_h - g.pad_h + r;
          if (y < 0 || y >= g.h) continue;
          float* dst = plane + y * g.w;
          const float* srow = src + p * g.q;
          for (int64_t q = 0; q < g.q; ++q) {
            const int64_t x = q * g.stride_w - g.pad_w + s;
            if (x >= 0 && x < g.w) dst[x] += srow[q];
          }
        }
      }
    }
  }
}

// (N, K, PQ) <-> (K, N*PQ)
void batch_major_to_channel_major(float* dst, const float* src, int64_t n, int64_t k, int64_t pq) {
#pragma omp parallel for collapse(2) schedule(static) if (n * k * pq > kParallelElements)
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t c = 0; c < k; ++c) std::memcpy(dst + (c * n + b) * pq, src + (b * k + c) * pq, sizeof(float) * pq);
  }
}

void channel_major_to_batch_major(float* dst, const float* src, int64_t n, int64_t k, int64_t pq) {
#pragma omp parallel for collapse(2) schedule(static) if (n * k * pq > kParallelElements)
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t c = 0; c < k; ++c) std::memcpy(dst + (b * k + c) * pq, src + (c * n + b) * pq, sizeof(float) * pq);
  }
}

}  // namespace

int64_t conv_workspace_floats(const ConvGeom& g) { return (col_rows(g) + g.k) * col_cols(g); }

void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace) {
  float* col = workspace;
  float* out_cm = workspace + col_rows(g) * col_cols(g);
  im2col(col, in, g);
  GemmArgs mm;
  mm.m = g.k, mm.n = col_cols(g), mm.k = col_rows(g);
  mm.a = weight, mm.lda = col_rows(g);
  mm.b = col, mm.ldb = col_cols(g);
  mm.c = out_cm, mm.ldc = col_cols(g);
  gemm(mm);
  channel_major_to_batch_major(out, out_cm, g.n, g.k, g.p * g.q);
}

void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                           float* workspace) {
  float* col = workspace;
  float* dout_cm = workspace + col_rows(g) * col_cols(g);
  batch_major_to_channel_major(dout_cm, dout, g.n, g.k, g.p * g.q);
  GemmArgs mm;  // col (CRS, NPQ) = W^T (CRS, K) * dout (K, NPQ)
  mm.trans_a = true;
  mm.m = col_rows(g), mm.n = col_cols(g), mm.k = g.k;
  mm.a = weight, mm.lda = col_rows(g);
  mm.b = dout_cm, mm.ldb = col_cols(g);
  mm.c = col, mm.ldc = col_cols(g);
  gemm(mm);
  col2im_accumulate(din, col, g);
}

void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                            float* workspace) {
  float* col = workspace;
  float* dout_cm = workspace + col_rows(g) * col_cols(g);
  im2col(col, in, g);
  batch_major_to_channel_major(dout_cm, dout, g.n, g.k, g.p * g.q);
  GemmArgs mm;  // dW (K, CRS) += dout (K, NPQ) * col^T (NPQ, CRS)
  mm.trans_b = true;
  mm.m = g.k, mm.n = col_rows(g), mm.k = col_cols(g);
  mm.a = dout_cm, mm.lda = col_cols(g);
  mm.b = col, mm.ldb = col_cols(g);
  mm.beta = 1.0f;
  mm.c = dweight, mm.ldc = col_rows(g);
  gemm(mm);
}

}  // namespace cfgan::cpu
