// Convolution as GEMM, the lowering of kernels/cpu/conv.cpp on the GPU: im2col lays the
// input windows out as a column matrix col (C*R*S, N*P*Q), the columns of all N images
// side by side, and gemm.cu does the arithmetic.
//
// Forward and input gradient: when one image's P*Q columns fill a GEMM tile
// (kMinColumnsPerImage), a batched GEMM with one product per image reads and writes the
// NCHW tensors in place; narrower layers run one GEMM over all N*P*Q columns and move
// the output (gradient) between (N, K, P*Q) and a channel-major (K, N*P*Q) buffer. The
// weight gradient sums over all images and always takes the whole-batch GEMM.
//
// Workspace layout: col (C*R*S, N*P*Q) | channel-major (K, N*P*Q) | the GEMM's split-K
// partial products (gemm.cuh), each part 16-byte aligned.
//
// The elementwise kernels run one thread per element of one image, blockIdx.y numbering
// the image, with 32-bit index arithmetic inside an image (check_geometry).
#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {
namespace {

constexpr int64_t kMinColumnsPerImage = 128;  // the widest GEMM tile (gemm.cu)
constexpr int kThreads = 256;
constexpr int64_t kMaxImagesPerLaunch = 65535;  // grid.y

__host__ __device__ int64_t col_rows(const ConvGeom& g) { return g.c * g.r * g.s; }
__host__ __device__ int64_t col_cols(const ConvGeom& g) { return g.n * g.p * g.q; }
bool gemm_per_image(const ConvGeom& g) { return g.p * g.q >= kMinColumnsPerImage; }
int64_t round_up4(int64_t n) { return (n + 3) / 4 * 4; }

// ---- Kernels ---------------------------------------------------------------------

// col[row][n*P*Q + j] for one image n = image0 + blockIdx.y and every (row, j), row =
// (c*R + r)*S + s, j = p*Q + q: the input pixel under tap (r, s) of window (p, q), or 0
// where the window hangs over the padding.
__global__ void __launch_bounds__(kThreads) im2col_kernel(float* __restrict__ col, const float* __restrict__ in,
                                                          ConvGeom g, int64_t image0) {
  const int pq = static_cast<int>(g.p * g.q), rs = static_cast<int>(g.r * g.s);
  const int e = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (e >= static_cast<int>(g.c) * rs * pq) return;
  const int64_t n = image0 + blockIdx.y;
  const int row = e / pq, j = e % pq;
  const int c = row / rs, r = row % rs / static_cast<int>(g.s), s = row % static_cast<int>(g.s);
  const int y = j / static_cast<int>(g.q) * static_cast<int>(g.stride_h) - static_cast<int>(g.pad_h) + r;
  const int x = j % static_cast<int>(g.q) * static_cast<int>(g.stride_w) - static_cast<int>(g.pad_w) + s;
  float v = 0.0f;
  if (y >= 0 && y < g.h && x >= 0 && x < g.w) v = __ldg(in + ((n * g.c + c) * g.h + y) * g.w + x);
  col[row * col_cols(g) + n * pq + j] = v;
}

// din (one image) += col2im(col), or = when !accumulate (a sum from 0, as the CPU's):
// each thread gathers the column entries that read its input pixel, taps in increasing
// (r, s) order as on the CPU, so no two threads write the same element and no atomics
// are needed.
__global__ void __launch_bounds__(kThreads) col2im_kernel(float* __restrict__ din, const float* __restrict__ col,
                                                          ConvGeom g, int64_t image0, bool accumulate) {
  const int h = static_cast<int>(g.h), w = static_cast<int>(g.w), hw = h * w;
  const int e = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (e >= static_cast<int>(g.c) * hw) return;
  const int64_t n = image0 + blockIdx.y;
  const int c = e / hw, y = e % hw / w, x = e % w;
  const int kr = static_cast<int>(g.r), ks = static_cast<int>(g.s), p_end = static_cast<int>(g.p),
            q_end = static_cast<int>(g.q);
  const int sh = static_cast<int>(g.stride_h), sw = static_cast<int>(g.stride_w);
  const int oy = y + static_cast<int>(g.pad_h), ox = x + static_cast<int>(g.pad_w);
  const int64_t cols = col_cols(g);
  const float* image_col = col + n * g.p * g.q;
  float* out = din + (n * g.c + c) * hw + y * w + x;
  float sum = accumulate ? *out : 0.0f;
  // Tap r of output row p reads input row p*sh - pad_h + r = y, i.e. p = (oy - r) / sh
  // when that divides; likewise for columns.
  for (int r = oy % sh; r < kr && r <= oy; r += sh) {
    const int p = (oy - r) / sh;
    if (p >= p_end) continue;
    for (int s = ox % sw; s < ks && s <= ox; s += sw) {
      const int q = (ox - s) / sw;
      if (q < q_end) sum += image_col[((c * kr + r) * ks + s) * cols + p * q_end + q];
    }
  }
  *out = sum;
}

// Between the NCHW-style (N, K, P*Q) layout and the channel-major (K, N*P*Q) one, for
// image n = image0 + blockIdx.y.
template <bool kToChannelMajor>
__global__ void __launch_bounds__(kThreads) relayout_kernel(float* __restrict__ dst, const float* __restrict__ src,
                                                            int64_t k, int64_t pq, int64_t images, int64_t image0) {
  const int e = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (e >= k * pq) return;
  const int64_t n = image0 + blockIdx.y;
  const int channel = e / static_cast<int>(pq), j = e % static_cast<int>(pq);
  const int64_t batch_major = (n * k + channel) * pq + j, channel_major = channel * images * pq + n * pq + j;
  if (kToChannelMajor) {
    dst[channel_major] = __ldg(src + batch_major);
  } else {
    dst[batch_major] = __ldg(src + channel_major);
  }
}

// ---- Host side -------------------------------------------------------------------

// One launch per kMaxImagesPerLaunch images of `per_image` elements each.
template <typename Launch>
void for_image_chunks(const ConvGeom& g, int64_t per_image, Launch launch) {
  if (per_image == 0) return;
  const unsigned blocks = static_cast<unsigned>((per_image + kThreads - 1) / kThreads);
  for (int64_t image0 = 0; image0 < g.n; image0 += kMaxImagesPerLaunch) {
    launch(dim3(blocks, static_cast<unsigned>(std::min(kMaxImagesPerLaunch, g.n - image0))), image0);
  }
}

void im2col(float* col, const float* in, const ConvGeom& g) {
  for_image_chunks(g, col_rows(g) * g.p * g.q, [&](dim3 grid, int64_t image0) {
    CFGAN_LAUNCH(im2col_kernel, grid, kThreads, 0, nullptr, col, in, g, image0);
  });
}

void col2im(float* din, const float* col, const ConvGeom& g, bool accumulate) {
  for_image_chunks(g, g.c * g.h * g.w, [&](dim3 grid, int64_t image0) {
    CFGAN_LAUNCH(col2im_kernel, grid, kThreads, 0, nullptr, din, col, g, image0, accumulate);
  });
}

void batch_major_to_channel_major(float* dst, const float* src, const ConvGeom& g) {
  for_image_chunks(g, g.k * g.p * g.q, [&](dim3 grid, int64_t image0) {
    CFGAN_LAUNCH(relayout_kernel<true>, grid, kThreads, 0, nullptr, dst, src, g.k, g.p * g.q, g.n, image0);
  });
}

void channel_major_to_batch_major(float* dst, const float* src, const ConvGeom& g) {
  for_image_chunks(g, g.k * g.p * g.q, [&](dim3 grid, int64_t image0) {
    CFGAN_LAUNCH(relayout_kernel<false>, grid, kThreads, 0, nullptr, dst, src, g.k, g.p * g.q, g.n, image0);
  });
}

// The kernels index within one image (and one image's columns) with 32-bit integers.
void check_geometry(const ConvGeom& g, const char* kernel) {
  const int64_t largest = std::max({col_rows(g) * g.p * g.q, g.c * g.h * g.w, g.k * g.p * g.q});
  if (largest > INT_MAX) {
    throw std::runtime_error(std::string("cuda ") + kernel + ": one image spans " + std::to_string(largest) +
                             " elements (input, output or columns); at most 2^31 - 1 are supported");
  }
}

struct Workspace {
  float* col;            // (C*R*S, N*P*Q)
  float* channel_major;  // (K, N*P*Q)
  float* partials;       // split-K scratch of the GEMMs
};

Workspace carve(float* workspace, const ConvGeom& g) {
  float* channel_major = workspace + round_up4(col_rows(g) * col_cols(g));
  return {workspace, channel_major, channel_major + round_up4(g.k * col_cols(g))};
}

// out (K, N*P*Q or per image P*Q) = W (K, CRS) * col (CRS, ...)
GemmArgs forward_gemm(const ConvGeom& g, float* out, const float* weight, const Workspace& ws) {
  const int64_t pq = g.p * g.q;
  GemmArgs mm;
  mm.precision = g.precision;
  mm.m = g.k, mm.k = col_rows(g);
  mm.a = weight, mm.lda = col_rows(g);
  mm.b = ws.col, mm.ldb = col_cols(g);
  if (gemm_per_image(g)) {
    mm.n = pq;
    mm.c = out, mm.ldc = pq;
    mm.batch = g.n, mm.stride_b = pq, mm.stride_c = g.k * pq;
  } else {
    mm.n = col_cols(g);
    mm.c = ws.channel_major, mm.ldc = col_cols(g);
  }
  return mm;
}

// col (CRS, N*P*Q) = W^T (CRS, K) * dout (K, per image P*Q or N*P*Q)
GemmArgs input_gradient_gemm(const ConvGeom& g, const float* dout, const float* weight, const Workspace& ws) {
  const int64_t pq = g.p * g.q;
  GemmArgs mm;
  mm.precision = g.precision;
  mm.trans_a = true;
  mm.m = col_rows(g), mm.k = g.k;
  mm.a = weight, mm.lda = col_rows(g);
  mm.c = ws.col, mm.ldc = col_cols(g);
  if (gemm_per_image(g)) {
    mm.n = pq;
    mm.b = dout, mm.ldb = pq;
    mm.batch = g.n, mm.stride_b = g.k * pq, mm.stride_c = pq;
  } else {
    mm.n = col_cols(g);
    mm.b = ws.channel_major, mm.ldb = col_cols(g);
  }
  return mm;
}

// dW (K, CRS) (+)= dout (K, N*P*Q) * col^T (N*P*Q, CRS)
GemmArgs weight_gradient_gemm(const ConvGeom& g, float* dweight, const Workspace& ws, bool accumulate) {
  GemmArgs mm;
  mm.precision = g.precision;
  mm.trans_b = true;
  mm.m = g.k, mm.n = col_rows(g), mm.k = col_cols(g);
  mm.a = ws.channel_major, mm.lda = col_cols(g);
  mm.b = ws.col, mm.ldb = col_cols(g);
  mm.beta = accumulate ? 1.0f : 0.0f;
  mm.c = dweight, mm.ldc = col_rows(g);
  return mm;
}

}  // namespace

int64_t conv_workspace_floats(const ConvGeom& g) {
  const Workspace none{nullptr, nullptr, nullptr};
  const int64_t partials = std::max({gemm_workspace_floats(forward_gemm(g, nullptr, nullptr, none)),
                                     gemm_workspace_floats(input_gradient_gemm(g, nullptr, nullptr, none)),
                                     gemm_workspace_floats(weight_gradient_gemm(g, nullptr, none, true))});
  return round_up4(col_rows(g) * col_cols(g)) + round_up4(g.k * col_cols(g)) + partials;
}

void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace) {
  check_geometry(g, "conv2d_forward");
  const Workspace ws = carve(workspace, g);
  im2col(ws.col, in, g);
  gemm_with_workspace(forward_gemm(g, out, weight, ws), ws.partials);
  if (!gemm_per_image(g)) channel_major_to_batch_major(out, ws.channel_major, g);
}

void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                           float* workspace, bool accumulate) {
  check_geometry(g, "conv2d_backward_input");
  const Workspace ws = carve(workspace, g);
  if (!gemm_per_image(g)) batch_major_to_channel_major(ws.channel_major, dout, g);
  gemm_with_workspace(input_gradient_gemm(g, dout, weight, ws), ws.partials);
  col2im(din, ws.col, g, accumulate);
}

void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                            float* workspace, bool accumulate) {
  check_geometry(g, "conv2d_backward_weight");
  const Workspace ws = carve(workspace, g);
  im2col(ws.col, in, g);
  batch_major_to_channel_major(ws.channel_major, dout, g);
  gemm_with_workspace(weight_gradient_gemm(g, dweight, ws, accumulate), ws.partials);
}

}  // namespace cfgan::CFGAN_CUDA_NS
