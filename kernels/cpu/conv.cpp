// Convolution as GEMM. im2col lays the input windows out as a column matrix
// col (C*R*S, N*P*Q), the columns of all N images side by side.
//
// Forward and input gradient: when one image's P*Q columns fill the GEMM's register
// tiles (kMinColumnsPerImage), a batched GEMM with one product per image reads and
// writes the NCHW tensors in place. Narrower layers would leave tiles idle (at DCGAN's
// 7x7 layer a quarter of them), so they run one GEMM over all N*P*Q columns and copy
// the output (gradient) between (N, K, P*Q) and a channel-major (K, N*P*Q) buffer.
// The weight gradient sums over all images and always takes the whole-batch GEMM.
//
// Workspace layout: col (C*R*S, N*P*Q) followed by the (K, N*P*Q) channel-major buffer.
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

// Four AVX-512 register tiles (32 columns each) per image keep the ragged last tile's idle
// lanes under 1/8 of the work, and make the per-image repacking of the weight cheap
// next to the product.
constexpr int64_t kMinColumnsPerImage = 128;

int64_t col_rows(const ConvGeom& g) { return g.c * g.r * g.s; }
int64_t col_cols(const ConvGeom& g) { return g.n * g.p * g.q; }
bool gemm_per_image(const ConvGeom& g) { return g.p * g.q >= kMinColumnsPerImage; }

// Index tables that turn im2col and col2im into gathers over one image at a time.
// They are the size of one image's columns, built per call (cheap next to the
// product), and kept in grow-only thread-local vectors so that steady-state calls
// allocate nothing. Indices are int32: they address one image plane or one image's
// column block.

// For tap t = r * S + s and output position j = p * Q + q: the input pixel y * W + x
// that im2col reads, or -1 where the window hangs over the padding. (R*S, P*Q)
const int32_t* im2col_table(const ConvGeom& g) {
  thread_local std::vector<int32_t> table;
  table.resize(g.r * g.s * g.p * g.q);
  int32_t* out = table.data();
  for (int64_t r = 0; r < g.r; ++r) {
    for (int64_t s = 0; s < g.s; ++s) {
      for (int64_t p = 0; p < g.p; ++p) {
        for (int64_t q = 0; q < g.q; ++q) {
          const int64_t y = p * g.stride_h - g.pad_h + r, x = q * g.stride_w - g.pad_w + s;
          *out++ = y >= 0 && y < g.h && x >= 0 && x < g.w ? static_cast<int32_t>(y * g.w + x) : -1;
        }
      }
    }
  }
  return table.data();
}

// At most ceil(R / stride_h) * ceil(S / stride_w) windows cover one input pixel.
int64_t col2im_slots(const ConvGeom& g) {
  return (g.r + g.stride_h - 1) / g.stride_h * ((g.s + g.stride_w - 1) / g.stride_w);
}

// The transpose of im2col_table: for input pixel i and slot u < col2im_slots, the
// position t * P*Q + j in one image's (R*S, P*Q) column block that reads pixel i, or -1.
// (slots, H*W), so that one slot of consecutive pixels is contiguous.
const int32_t* col2im_table(const ConvGeom& g, const int32_t* reads) {
  thread_local std::vector<int32_t> table;
  thread_local std::vector<int32_t> filled;
  const int64_t hw = g.h * g.w, block = g.r * g.s * g.p * g.q;
  table.assign(col2im_slots(g) * hw, -1);
  filled.assign(hw, 0);
  for (int64_t at = 0; at < block; ++at) {
    const int32_t i = reads[at];
    if (i >= 0) table[filled[i]++ * hw + i] = static_cast<int32_t>(at);
  }
  return table.data();
}

#if defined(__AVX512F__)

__mmask16 first_lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// dst[j] = src[index[j]], or 0 where index[j] < 0, for j < n.
void gather(float* dst, const float* src, const int32_t* index, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 lanes = first_lanes(n - j);
    const __m512i at = _mm512_maskz_loadu_epi32(lanes, index + j);
    const __mmask16 valid = _mm512_mask_cmpge_epi32_mask(lanes, at, _mm512_setzero_si512());
    _mm512_mask_storeu_ps(dst + j, lanes, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, at, src, 4));
  }
}

// dst[i] += sum over u < slots of src[index[u * n + i]] (where that is >= 0), for i < n.
void gather_accumulate(float* dst, const float* src, const int32_t* index, int64_t slots, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    __m512 sum = _mm512_maskz_loadu_ps(lanes, dst + i);
    for (int64_t u = 0; u < slots; ++u) {
      const __m512i at = _mm512_maskz_loadu_epi32(lanes, index + u * n + i);
      const __mmask16 valid = _mm512_mask_cmpge_epi32_mask(lanes, at, _mm512_setzero_si512());
      sum = _mm512_add_ps(sum, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, at, src, 4));
    }
    _mm512_mask_storeu_ps(dst + i, lanes, sum);
  }
}

#else

void gather(float* dst, const float* src, const int32_t* index, int64_t n) {
  for (int64_t j = 0; j < n; ++j) dst[j] = index[j] >= 0 ? src[index[j]] : 0.0f;
}

void gather_accumulate(float* dst, const float* src, const int32_t* index, int64_t slots, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float sum = dst[i];
    for (int64_t u = 0; u < slots; ++u) {
      const int32_t at = index[u * n + i];
      if (at >= 0) sum += src[at];
    }
    dst[i] = sum;
  }
}

#endif

// col (C*R*S, N*P*Q) from in (N,C,H,W); zero where the window hangs over the padding.
void im2col(float* col, const float* in, const ConvGeom& g) {
  const int64_t pq = g.p * g.q, cols = col_cols(g), rs = g.r * g.s;
  const int32_t* reads = im2col_table(g);
#pragma omp parallel for collapse(2) schedule(static) if (g.c * rs * cols > kParallelElements)
  for (int64_t row = 0; row < g.c * rs; ++row) {
    for (int64_t n = 0; n < g.n; ++n) {
      gather(col + row * cols + n * pq, in + (n * g.c + row / rs) * g.h * g.w, reads + row % rs * pq, pq);
    }
  }
}

// din (N,C,H,W) += col2im(col), as a gather per input pixel rather than a scatter per
// column element: each thread owns whole (channel, image) planes, so no two threads
// write the same element, and a single-channel input still splits across threads.
// Each plane's (R*S, P*Q) column block is first copied together, so that the gathers
// hit one small contiguous block.
void col2im_accumulate(float* din, const float* col, const ConvGeom& g) {
  const int64_t pq = g.p * g.q, cols = col_cols(g), rs = g.r * g.s, hw = g.h * g.w;
  const int32_t* readers = col2im_table(g, im2col_table(g));
  const int64_t slots = col2im_slots(g);
#pragma omp parallel for collapse(2) schedule(static) if (g.c * g.n * hw > kParallelElements)
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t n = 0; n < g.n; ++n) {
      thread_local std::vector<float> block;
      block.resize(rs * pq);
      for (int64_t t = 0; t < rs; ++t)
        std::memcpy(block.data() + t * pq, col + (c * rs + t) * cols + n * pq, sizeof(float) * pq);
      gather_accumulate(din + (n * g.c + c) * hw, block.data(), readers, slots, hw);
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
  const int64_t pq = g.p * g.q;
  float* col = workspace;
  im2col(col, in, g);
  GemmArgs mm;  // out (K, NPQ) = W (K, CRS) * col (CRS, NPQ)
  mm.m = g.k, mm.k = col_rows(g);
  mm.a = weight, mm.lda = col_rows(g);
  mm.b = col, mm.ldb = col_cols(g);
  if (gemm_per_image(g)) {
    mm.n = pq;
    mm.c = out, mm.ldc = pq;
    mm.batch = g.n, mm.stride_b = pq, mm.stride_c = g.k * pq;
    gemm(mm);
    return;
  }
  float* out_cm = workspace + col_rows(g) * col_cols(g);
  mm.n = col_cols(g);
  mm.c = out_cm, mm.ldc = col_cols(g);
  gemm(mm);
  channel_major_to_batch_major(out, out_cm, g.n, g.k, pq);
}

void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g, float* workspace) {
  const int64_t pq = g.p * g.q;
  float* col = workspace;
  GemmArgs mm;  // col (CRS, NPQ) = W^T (CRS, K) * dout (K, NPQ)
  mm.trans_a = true;
  mm.m = col_rows(g), mm.k = g.k;
  mm.a = weight, mm.lda = col_rows(g);
  mm.c = col, mm.ldc = col_cols(g);
  if (gemm_per_image(g)) {
    mm.n = pq;
    mm.b = dout, mm.ldb = pq;
    mm.batch = g.n, mm.stride_b = g.k * pq, mm.stride_c = pq;
  } else {
    float* dout_cm = workspace + col_rows(g) * col_cols(g);
    batch_major_to_channel_major(dout_cm, dout, g.n, g.k, pq);
    mm.n = col_cols(g);
    mm.b = dout_cm, mm.ldb = col_cols(g);
  }
  gemm(mm);
  col2im_accumulate(din, col, g);
}

void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g, float* workspace) {
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
