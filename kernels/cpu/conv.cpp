// Convolution as GEMM over the column matrix col (C*R*S, N*P*Q) of im2col, whose row
// (c, r, s) holds, for every output position (n, p, q), the input pixel that tap reads.
//
// Forward and weight gradient never store col: the GEMM's B micro-panels are packed
// straight from the image (implicit GEMM, kernels/cpu/gemm_implicit.h), each panel row a
// few strided copies of input rows. The input gradient writes col, its GEMM's output,
// and folds it back into the image with col2im, one chunk of images at a time so that
// col is never whole; its B panels are packed straight from dout.
//
// Forward: when one image's P*Q columns fill the GEMM's register tiles
// (kMinColumnsPerImage), a batched GEMM with one product per image writes the NCHW
// output in place. Narrower layers would leave tiles idle (at DCGAN's 7x7 layer a
// quarter of them), so they run one GEMM over all N*P*Q columns into a channel-major
// (K, N*P*Q) buffer and copy it out. The weight gradient sums over all images in one
// GEMM whose A panels are packed straight from dout.
//
// The 4x4 stride-2 layers with batch and channels in multiples of 16 run all three passes
// as Winograd products instead (kernels/cpu/conv_winograd.h), in FP32; other FP32 batches
// in multiples of 16 run the weight gradient as dot products over the batch
// (kernels/cpu/conv_weight_gradient.h), which need no panels packed. Kernels that cover
// their whole input at one output position are dense layers and run as plain GEMMs.
//
// Workspace: the forward's (K, N*P*Q) channel-major buffer, or what the Winograd passes
// need, or the weight gradient's interleaved copies of its operands, whichever is largest.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/cpu/conv_weight_gradient.h"
#include "kernels/cpu/conv_winograd.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/gemm_implicit.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

// Four AVX-512 register tiles (32 columns each) per image keep the ragged last tile's idle
// lanes under 1/8 of the work, and make the per-image repacking of the weight cheap
// next to the product.
constexpr int64_t kMinColumnsPerImage = 128;

// The input gradient runs over chunks of whole images of about this many columns, so
// that col is never whole and a chunk's col is still in cache when col2im reads it
// back; each thread takes whole chunks.
constexpr int64_t kColumnsPerChunk = 1024;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t col_rows(const ConvGeom& g) { return g.c * g.r * g.s; }
int64_t col_cols(const ConvGeom& g) { return g.n * g.p * g.q; }
bool gemm_per_image(const ConvGeom& g) { return g.p * g.q >= kMinColumnsPerImage; }

// A kernel that covers the whole unpadded input at its one output position is a dense
// layer, the image flattened (DCGAN's first transposed convolution, z as 1x1 pixels to
// 4x4): out (N, K) = in (N, CRS) W^T, and its gradients are the dense layer's. Lowered to
// im2col, its input gradient would fold back N*C planes of 16 single floats each.
bool dense(const ConvGeom& g) {
  return g.p == 1 && g.q == 1 && g.pad_h == 0 && g.pad_w == 0 && g.r == g.h && g.s == g.w;
}

// Equal in every size, stride and padding: the index tables below depend on nothing else.
bool same_indexing(const ConvGeom& a, const ConvGeom& b) {
  return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w && a.k == b.k && a.r == b.r && a.s == b.s &&
         a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_h == b.pad_h && a.pad_w == b.pad_w &&
         a.p == b.p && a.q == b.q;
}

// At most ceil(R / stride_h) * ceil(S / stride_w) windows cover one input pixel.
int64_t col2im_slots(const ConvGeom& g) {
  return (g.r + g.stride_h - 1) / g.stride_h * ((g.s + g.stride_w - 1) / g.stride_w);
}

// For input pixel i and slot u < col2im_slots: the position t * P*Q + j in one image's
// (R*S, P*Q) column block whose tap t = r * S + s at output position j = p * Q + q reads
// pixel i, or -1. (slots, H*W), so that one slot of consecutive pixels is contiguous;
// int32, as it addresses one image's column block. The input gradient asks once per
// chunk of images, so the calling thread's last table is kept (grow-only: steady-state
// calls allocate nothing).
const int32_t* col2im_table(const ConvGeom& g) {
  thread_local std::vector<int32_t> table, filled;
  thread_local ConvGeom last{};
  ConvGeom key = g;
  key.n = 0;  // the table is per image
  if (!table.empty() && same_indexing(key, last)) return table.data();
  const int64_t hw = g.h * g.w;
  table.assign(col2im_slots(g) * hw, -1);
  filled.assign(hw, 0);
  int32_t at = 0;
  for (int64_t r = 0; r < g.r; ++r) {
    for (int64_t s = 0; s < g.s; ++s) {
      for (int64_t p = 0; p < g.p; ++p) {
        for (int64_t q = 0; q < g.q; ++q, ++at) {
          const int64_t y = p * g.stride_h - g.pad_h + r, x = q * g.stride_w - g.pad_w + s;
          if (y < 0 || y >= g.h || x < 0 || x >= g.w) continue;
          const int64_t i = y * g.w + x;
          table[filled[i]++ * hw + i] = at;
        }
      }
    }
  }
  last = key;
  return table.data();
}

// One output row's stretch of consecutive columns: columns [lane, lane + len) of a
// block are (n, p, q0 + i) for i < len, and image_offset = n * C*H*W.
struct ColumnRun {
  int64_t image_offset;
  int64_t p, q0, lane, len;
};

// A run is at most one vector long, so that it is one permute of two input vectors.
constexpr int64_t kMaxRun = 16;

// Columns [col0, col0 + cols) of a product's col, as runs. Column j is output position
// j % (P*Q) of image j / (P*Q) counted from the product's first image.
void column_runs(const ConvGeom& g, int64_t col0, int64_t cols, std::vector<ColumnRun>& runs) {
  runs.clear();
  const int64_t pq = g.p * g.q;
  for (int64_t lane = 0; lane < cols;) {
    const int64_t j = col0 + lane, n = j / pq, p = j % pq / g.q, q = j % g.q;
    const int64_t len = std::min({g.q - q, cols - lane, kMaxRun});
    runs.push_back({n * g.c * g.h * g.w, p, q, lane, len});
    lane += len;
  }
}

// Where one run reads for one tap (r, s): input row y, pixels x0 + i * stride_w, at
// offset image_offset + y * W + x0 from its channel's plane; for the vector path, which
// lanes of the two vectors at that offset and 16 past it lie inside the plane (none
// when row y is padding).
struct RunRead {
  int64_t offset, x0;
  uint32_t low, high;
  bool row_inside;
};

// Lanes [lo, hi) of 16, clipped, as a bit mask.
uint32_t lanes_between(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 16), hi = std::clamp<int64_t>(hi, 0, 16);
  return hi <= lo ? 0u : ((1u << hi) - 1u) & ~((1u << lo) - 1u);
}

// The runs of a block's columns and their reads for every tap, (runs, R*S).
struct RunTable {
  std::vector<ColumnRun> runs;
  std::vector<RunRead> reads;
};

// The weight gradient packs one panel of lines after another over the same columns, so
// the calling thread's last table is kept.
const RunTable& run_table(const ConvGeom& g, int64_t col0, int64_t cols) {
  thread_local RunTable table;
  thread_local ConvGeom last_g{};
  thread_local int64_t last_col0 = -1, last_cols = -1;
  if (col0 == last_col0 && cols == last_cols && same_indexing(g, last_g)) return table;
  column_runs(g, col0, cols, table.runs);
  const int64_t n_runs = static_cast<int64_t>(table.runs.size()), rs = g.r * g.s;
  table.reads.resize(n_runs * rs);
  for (int64_t i = 0; i < n_runs; ++i) {
    const ColumnRun& run = table.runs[i];
    const bool two_vectors = (run.len - 1) * g.stride_w >= 16;
    for (int64_t t = 0; t < rs; ++t) {
      const int64_t y = run.p * g.stride_h - g.pad_h + t / g.s, x0 = run.q0 * g.stride_w - g.pad_w + t % g.s;
      const bool inside = y >= 0 && y < g.h;
      table.reads[i * rs + t] = {run.image_offset + y * g.w + x0, x0, inside ? lanes_between(-x0, g.w - x0) : 0u,
                                 inside && two_vectors ? lanes_between(-x0 - 16, g.w - x0 - 16) : 0u, inside};
    }
  }
  last_g = g, last_col0 = col0, last_cols = cols;
  return table;
}

// Rows of col per pass over the runs: their slice of the block stays in L1 while each
// run is written down it.
constexpr int64_t kRowsPerPass = 32;

// dst[(row - row0) * ld + (j - col0)] = col[row][j] for rows [row0, row0 + rows) and
// columns [col0, col0 + cols) of the col of the product whose first image is image0.
//
// Strides 1 and 2 (every DCGAN layer) read two vectors around a run and pick its lanes
// with one permute, the padding masked off by the loads; a gather would be several
// times slower on cores that split it into one load per lane. Larger strides copy
// element by element.
void im2col_block(const ConvGeom& g, const float* image0, int64_t row0, int64_t rows, int64_t col0, int64_t cols,
                  float* dst, int64_t ld) {
  const RunTable& table = run_table(g, col0, cols);
  const std::vector<ColumnRun>& runs = table.runs;
  const int64_t n_runs = static_cast<int64_t>(runs.size()), rs = g.r * g.s, hw = g.h * g.w;
  for (int64_t pass = row0; pass < row0 + rows; pass += kRowsPerPass) {
    const int64_t pass_rows = std::min(kRowsPerPass, row0 + rows - pass);
    for (int64_t i = 0; i < n_runs; ++i) {
      const ColumnRun& run = runs[i];
      const RunRead* read = table.reads.data() + i * rs;
      float* to = dst + (pass - row0) * ld + run.lane;
      int64_t c = pass / rs, t = pass % rs;
#if defined(__AVX512F__)
      if (g.stride_w <= 2) {
        const __mmask16 lanes = static_cast<__mmask16>((1u << run.len) - 1u);
        const __m512i pick = g.stride_w == 1
                                 ? _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
                                 : _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int64_t k = 0; k < pass_rows; ++k, to += ld) {
          const float* from = image0 + c * hw + read[t].offset;
          const __m512 v0 = _mm512_maskz_loadu_ps(static_cast<__mmask16>(read[t].low), from);
          const __m512 v1 = _mm512_maskz_loadu_ps(static_cast<__mmask16>(read[t].high), from + 16);
          _mm512_mask_storeu_ps(to, lanes, _mm512_maskz_permutex2var_ps(lanes, v0, pick, v1));
          if (++t == rs) t = 0, ++c;
        }
        continue;
      }
#endif
      for (int64_t k = 0; k < pass_rows; ++k, to += ld) {
        const float* line = image0 + c * hw + read[t].offset - read[t].x0;
        for (int64_t e = 0; e < run.len; ++e) {
          const int64_t x = read[t].x0 + e * g.stride_w;
          to[e] = read[t].row_inside && x >= 0 && x < g.w ? line[x] : 0.0f;
        }
        if (++t == rs) t = 0, ++c;
      }
    }
  }
}

// The B operands of the implicit GEMMs: col for the forward (columns are output
// positions), col^T for the weight gradient (columns are rows of col).
struct ImplicitColumns {
  const ConvGeom* g;
  const float* in;
  bool per_image;  // one product per image, or one over the whole batch
};

void pack_col_panel(const void* context, int64_t product, int64_t k0, int64_t kc, int64_t col, int64_t width,
                    int64_t padded_width, float* dst) {
  const auto& x = *static_cast<const ImplicitColumns*>(context);
  const ConvGeom& g = *x.g;
  const float* image0 = x.in + (x.per_image ? product * g.c * g.h * g.w : 0);
  im2col_block(g, image0, k0, kc, col, width, dst, padded_width);
  if (width == padded_width) return;
  for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * padded_width + width, dst + (k + 1) * padded_width, 0.0f);
}

// Rows [col, col + width) of col over its columns [k0, k0 + kc), laid out as those rows
// and then transposed into the panel as the GEMM packs any transposed B.
void pack_col_transposed_panel(const void* context, int64_t, int64_t k0, int64_t kc, int64_t col, int64_t width,
                               int64_t padded_width, float* dst) {
  const auto& x = *static_cast<const ImplicitColumns*>(context);
  thread_local std::vector<float> rows;
  rows.resize(width * kc);
  im2col_block(*x.g, x.in, col, width, k0, kc, rows.data(), kc);
  gemm_detail::pack_panel({rows.data(), kc, true}, kc, width, padded_width, dst);
}

#if defined(__AVX512F__)

__mmask16 first_lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// dst[i] (+)= sum over u < slots of src[index[u * n + i]] (where that is >= 0), for i < n:
// added to dst when `accumulate`, else written (a sum from 0, as over a zero-filled dst).
void gather_sum(float* dst, const float* src, const int32_t* index, int64_t slots, int64_t n, bool accumulate) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    __m512 sum = accumulate ? _mm512_maskz_loadu_ps(lanes, dst + i) : _mm512_setzero_ps();
    for (int64_t u = 0; u < slots; ++u) {
      const __m512i at = _mm512_maskz_loadu_epi32(lanes, index + u * n + i);
      const __mmask16 valid = _mm512_mask_cmpge_epi32_mask(lanes, at, _mm512_setzero_si512());
      sum = _mm512_add_ps(sum, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, at, src, 4));
    }
    _mm512_mask_storeu_ps(dst + i, lanes, sum);
  }
}

#else

void gather_sum(float* dst, const float* src, const int32_t* index, int64_t slots, int64_t n, bool accumulate) {
  for (int64_t i = 0; i < n; ++i) {
    float sum = accumulate ? dst[i] : 0.0f;
    for (int64_t u = 0; u < slots; ++u) {
      const int32_t at = index[u * n + i];
      if (at >= 0) sum += src[at];
    }
    dst[i] = sum;
  }
}

#endif

// din (N,C,H,W) (+)= col2im(col), as a gather per input pixel rather than a scatter per
// column element: each thread owns whole (channel, image) planes, so no two threads
// write the same element, and a single-channel input still splits across threads.
// Each plane's (R*S, P*Q) column block is first copied together, so that the gathers
// hit one small contiguous block.
void col2im(float* din, const float* col, const ConvGeom& g, bool accumulate) {
  const int64_t pq = g.p * g.q, cols = col_cols(g), rs = g.r * g.s, hw = g.h * g.w;
  const int32_t* readers = col2im_table(g);
  const int64_t slots = col2im_slots(g);
#pragma omp parallel for collapse(2) schedule(static) if (g.c * g.n * hw > kParallelElements)
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t n = 0; n < g.n; ++n) {
      thread_local std::vector<float> block;
      block.resize(rs * pq);
      for (int64_t t = 0; t < rs; ++t)
        std::memcpy(block.data() + t * pq, col + (c * rs + t) * cols + n * pq, sizeof(float) * pq);
      gather_sum(din + (n * g.c + c) * hw, block.data(), readers, slots, hw, accumulate);
    }
  }
}

// (K, N*PQ) -> (N, K, PQ)
void channel_major_to_batch_major(float* dst, const float* src, int64_t n, int64_t k, int64_t pq) {
#pragma omp parallel for collapse(2) schedule(static) if (n * k * pq > kParallelElements)
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t c = 0; c < k; ++c) std::memcpy(dst + (b * k + c) * pq, src + (c * n + b) * pq, sizeof(float) * pq);
  }
}

// dout as the (K, N*P*Q) matrix, read from its (N, K, P*Q) layout: the input gradient's
// B operand and the weight gradient's A.
struct DoutColumns {
  const ConvGeom* g;
  const float* dout;
};

void pack_dout_panel(const void* context, int64_t, int64_t k0, int64_t kc, int64_t col, int64_t width,
                     int64_t padded_width, float* dst) {
  const auto& x = *static_cast<const DoutColumns*>(context);
  const int64_t pq = x.g->p * x.g->q;
  for (int64_t lane = 0; lane < width;) {  // one image's stretch of the panel at a time
    const int64_t j = col + lane, len = std::min(pq - j % pq, width - lane);
    const float* from = x.dout + (j / pq * x.g->k + k0) * pq + j % pq;
    for (int64_t k = 0; k < kc; ++k) std::copy_n(from + k * pq, len, dst + k * padded_width + lane);
    lane += len;
  }
  if (width == padded_width) return;
  for (int64_t k = 0; k < kc; ++k) std::fill(dst + k * padded_width + width, dst + (k + 1) * padded_width, 0.0f);
}

// Rows [row, row + height) over columns [k0, k0 + kc): within one image each row's stretch
// is contiguous, so the panel is packed one image's stretch at a time as any A whose rows
// run along k.
void pack_dout_rows(const void* context, int64_t, int64_t k0, int64_t kc, int64_t row, int64_t height, int64_t,
                    float* dst) {
  const auto& x = *static_cast<const DoutColumns*>(context);
  const int64_t pq = x.g->p * x.g->q;
  for (int64_t step = 0; step < kc;) {
    const int64_t j = k0 + step, len = std::min(pq - j % pq, kc - step);
    const float* first = x.dout + (j / pq * x.g->k + row) * pq + j % pq;
    gemm_detail::pack_panel({first, pq, true}, len, height, height, dst + step * height);
    step += len;
  }
}

}  // namespace

int64_t conv_workspace_floats(const ConvGeom& g) {
  if (winograd_applies(g)) return winograd_workspace_floats(g);
  const int64_t weight_gradient = lane_weight_gradient_applies(g) ? lane_weight_gradient_workspace_floats(g) : 0;
  return std::max(g.k * col_cols(g), weight_gradient);
}

void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace) {
  if (winograd_applies(g)) return winograd_forward(out, in, weight, g, workspace);
  if (dense(g)) {  // out (N, K) = in (N, CRS) * W^T (CRS, K)
    return gemm_implicit({.trans_b = true, .m = g.n, .n = g.k, .k = col_rows(g), .a = in, .lda = col_rows(g),
                          .b = weight, .ldb = col_rows(g), .c = out, .ldc = g.k, .precision = g.precision},
                         nullptr, nullptr);
  }
  const int64_t pq = g.p * g.q;
  const ImplicitColumns columns{&g, in, gemm_per_image(g)};
  const PanelPacker packer{pack_col_panel, &columns};
  GemmArgs mm;  // out (K, NPQ) = W (K, CRS) * col (CRS, NPQ)
  mm.precision = g.precision;
  mm.m = g.k, mm.k = col_rows(g);
  mm.a = weight, mm.lda = col_rows(g);
  if (columns.per_image) {
    mm.n = pq;
    mm.c = out, mm.ldc = pq;
    mm.batch = g.n, mm.stride_c = g.k * pq;
    gemm_implicit(mm, nullptr, &packer);
    return;
  }
  float* out_cm = workspace;
  mm.n = col_cols(g);
  mm.c = out_cm, mm.ldc = col_cols(g);
  gemm_implicit(mm, nullptr, &packer);
  channel_major_to_batch_major(out, out_cm, g.n, g.k, pq);
}

void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                           float* workspace, bool accumulate) {
  if (winograd_applies(g)) return winograd_backward_input(din, dout, weight, g, workspace, accumulate);
  if (dense(g)) {  // din (N, CRS) (+)= dout (N, K) * W (K, CRS)
    return gemm_implicit({.m = g.n, .n = col_rows(g), .k = g.k, .a = dout, .lda = g.k, .b = weight,
                          .ldb = col_rows(g), .beta = accumulate ? 1.0f : 0.0f, .c = din, .ldc = col_rows(g),
                          .precision = g.precision},
                         nullptr, nullptr);
  }
  const int64_t pq = g.p * g.q;
  const int64_t threads = std::clamp<int64_t>(g.n * col_rows(g) * pq * g.k / kMinFmasPerThread, 1, omp_get_max_threads());
  const int64_t per_chunk = std::max<int64_t>(1, kColumnsPerChunk / pq);
  const int64_t chunks = std::min(g.n, threads * ceil_div(g.n, threads * per_chunk));
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t i = 0; i < chunks; ++i) {
    ConvGeom part = g;  // images [n0, n1)
    const int64_t n0 = g.n * i / chunks;
    part.n = g.n * (i + 1) / chunks - n0;
    thread_local std::vector<float> col;
    col.resize(col_rows(part) * col_cols(part));
    const DoutColumns columns{&part, dout + n0 * g.k * pq};
    GemmArgs mm;  // col (CRS, nPQ) = W^T (CRS, K) * dout (K, nPQ)
    mm.precision = g.precision;
    mm.trans_a = true;
    mm.m = col_rows(g), mm.n = col_cols(part), mm.k = g.k;
    mm.a = weight, mm.lda = col_rows(g);
    mm.c = col.data(), mm.ldc = col_cols(part);
    const PanelPacker packer{pack_dout_panel, &columns};
    gemm_implicit(mm, nullptr, &packer);
    col2im(din + n0 * g.c * g.h * g.w, col.data(), part, accumulate);
  }
}

void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g, float* workspace,
                            bool accumulate) {
  if (winograd_applies(g)) return winograd_backward_weight(dweight, dout, in, g, workspace, accumulate);
  if (dense(g)) {  // dW (K, CRS) (+)= dout^T (K, N) * in (N, CRS)
    return gemm_implicit({.trans_a = true, .m = g.k, .n = col_rows(g), .k = g.n, .a = dout, .lda = g.k, .b = in,
                          .ldb = col_rows(g), .beta = accumulate ? 1.0f : 0.0f, .c = dweight, .ldc = col_rows(g),
                          .precision = g.precision},
                         nullptr, nullptr);
  }
  if (lane_weight_gradient_applies(g)) return lane_weight_gradient(dweight, dout, in, g, workspace, accumulate);
  const DoutColumns rows{&g, dout};
  const ImplicitColumns columns{&g, in, false};
  const PanelPacker a{pack_dout_rows, &rows}, b{pack_col_transposed_panel, &columns};
  GemmArgs mm;  // dW (K, CRS) (+)= dout (K, NPQ) * col^T (NPQ, CRS)
  mm.precision = g.precision;
  mm.m = g.k, mm.n = col_rows(g), mm.k = col_cols(g);
  mm.beta = accumulate ? 1.0f : 0.0f;
  mm.c = dweight, mm.ldc = col_rows(g);
  gemm_implicit(mm, &a, &b);
}

}  // namespace cfgan::cpu
