// Pooling and nearest upsampling over planes (N*C) of H x W, matching kernels/cpu/pool.cpp.
//
// Every kernel walks a 2-D index space of rows (plane, y) and columns x: a block is
// cols_per_block x rows_per_block threads, cols_per_block the smallest power of two
// covering a row (up to 128), so a warp stays on contiguous memory even when rows are
// 4 or 7 wide; blocks stride over rows. Each row costs one integer division, each
// element none.
//
// The backward kernels gather: each input element sums, in the order the CPU adds
// them, the outputs whose window covers it, then adds that to its gradient once. With
// overlapping windows (stride < kernel) that needs no atomics and is deterministic;
// for max pooling and upsampling it is also bit-identical to the CPU, since the very
// same float additions happen in the same order.
#include <cmath>
#include <cstdint>

#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;

struct RowLaunch {
  dim3 grid, block;
};

RowLaunch row_launch(int64_t rows, int64_t cols) {
  unsigned cols_per_block = 1;
  while (cols_per_block < cols && cols_per_block < 128) cols_per_block *= 2;
  const unsigned rows_per_block = kThreads / cols_per_block;
  return {dim3(grid_stride_blocks(rows, rows_per_block)), dim3(cols_per_block, rows_per_block)};
}

__device__ __forceinline__ int64_t first_row() { return int64_t{blockIdx.x} * blockDim.y + threadIdx.y; }
__device__ __forceinline__ int64_t row_stride() { return int64_t{gridDim.x} * blockDim.y; }

// Outputs along one axis whose window [o * stride - pad, o * stride - pad + kernel)
// covers input coordinate i: [*lo, *hi], possibly empty. Coordinates within a plane
// fit in 32 bits, and 32-bit divisions are several times cheaper than 64-bit ones.
__device__ __forceinline__ void covering_windows(int64_t i, int64_t kernel, int64_t stride, int64_t pad,
                                                 int64_t outputs, int64_t* lo, int64_t* hi) {
  const int shifted = static_cast<int>(i + pad), k = static_cast<int>(kernel), s = static_cast<int>(stride);
  *lo = shifted < k ? 0 : (shifted - k) / s + 1;
  *hi = min(int64_t{shifted / s}, outputs - 1);
}

// The CPU's scan: window rows, then columns; the first in-range element is taken
// whatever it is, later ones only when strictly greater (padding never wins, ties keep
// the first, a NaN only wins when it comes first).
__global__ void max_pool2d_forward_kernel(float* __restrict__ out, int32_t* __restrict__ argmax,
                                          const float* __restrict__ in, PoolGeom g) {
  for (int64_t row = first_row(); row < g.planes * g.p; row += row_stride()) {
    const int64_t plane = row / g.p, p = row - plane * g.p;
    const float* x = in + plane * g.h * g.w;
    const int64_t y0 = p * g.stride_h - g.pad_h;
    const int64_t r_begin = max(int64_t{0}, -y0), r_end = min(g.kernel_h, g.h - y0);
    for (int64_t q = threadIdx.x; q < g.q; q += blockDim.x) {
      const int64_t x0 = q * g.stride_w - g.pad_w;
      const int64_t s_begin = max(int64_t{0}, -x0), s_end = min(g.kernel_w, g.w - x0);
      float best = -INFINITY;
      int32_t best_i = -1;
      for (int64_t r = r_begin; r < r_end; ++r) {
        for (int64_t s = s_begin; s < s_end; ++s) {
          const int64_t at = (y0 + r) * g.w + x0 + s;
          const float v = x[at];
          if (v > best || best_i < 0) {
            best = v;
            best_i = static_cast<int32_t>(at);
          }
        }
      }
      out[row * g.q + q] = best;
      argmax[row * g.q + q] = best_i;
    }
  }
}

__global__ void max_pool2d_backward_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                           const int32_t* __restrict__ argmax, PoolGeom g) {
  for (int64_t row = first_row(); row < g.planes * g.h; row += row_stride()) {
    const int64_t plane = row / g.h, y = row - plane * g.h;
    int64_t p_lo, p_hi;
    covering_windows(y, g.kernel_h, g.stride_h, g.pad_h, g.p, &p_lo, &p_hi);
    const int64_t out_plane = plane * g.p * g.q;
    for (int64_t x = threadIdx.x; x < g.w; x += blockDim.x) {
      int64_t q_lo, q_hi;
      covering_windows(x, g.kernel_w, g.stride_w, g.pad_w, g.q, &q_lo, &q_hi);
      const int32_t self = static_cast<int32_t>(y * g.w + x);
      float acc = din[row * g.w + x];
      for (int64_t p = p_lo; p <= p_hi; ++p) {
        for (int64_t q = q_lo; q <= q_hi; ++q) {
          const int64_t o = out_plane + p * g.q + q;
          if (argmax[o] == self) acc += dout[o];
        }
      }
      din[row * g.w + x] = acc;
    }
  }
}

__global__ void avg_pool2d_forward_kernel(float* __restrict__ out, const float* __restrict__ in, PoolGeom g,
                                          float inv_area) {
  for (int64_t row = first_row(); row < g.planes * g.p; row += row_stride()) {
    const int64_t plane = row / g.p, p = row - plane * g.p;
    const float* x = in + plane * g.h * g.w;
    const int64_t y0 = p * g.stride_h - g.pad_h;
    const int64_t r_begin = max(int64_t{0}, -y0), r_end = min(g.kernel_h, g.h - y0);
    for (int64_t q = threadIdx.x; q < g.q; q += blockDim.x) {
      const int64_t x0 = q * g.stride_w - g.pad_w;
      const int64_t s_begin = max(int64_t{0}, -x0), s_end = min(g.kernel_w, g.w - x0);
      float sum = 0.0f;
      for (int64_t r = r_begin; r < r_end; ++r) {
        for (int64_t s = s_begin; s < s_end; ++s) sum += x[(y0 + r) * g.w + x0 + s];
      }
      out[row * g.q + q] = sum * inv_area;
    }
  }
}

__global__ void avg_pool2d_backward_kernel(float* __restrict__ din, const float* __restrict__ dout, PoolGeom g,
                                           float inv_area) {
  for (int64_t row = first_row(); row < g.planes * g.h; row += row_stride()) {
    const int64_t plane = row / g.h, y = row - plane * g.h;
    int64_t p_lo, p_hi;
    covering_windows(y, g.kernel_h, g.stride_h, g.pad_h, g.p, &p_lo, &p_hi);
    const float* dy = dout + plane * g.p * g.q;
    for (int64_t x = threadIdx.x; x < g.w; x += blockDim.x) {
      int64_t q_lo, q_hi;
      covering_windows(x, g.kernel_w, g.stride_w, g.pad_w, g.q, &q_lo, &q_hi);
      float acc = din[row * g.w + x];
      for (int64_t p = p_lo; p <= p_hi; ++p) {
        for (int64_t q = q_lo; q <= q_hi; ++q) acc += dy[p * g.q + q] * inv_area;
      }
      din[row * g.w + x] = acc;
    }
  }
}

// Output row r of (planes * H * scale) rows reads input row r / scale.
__global__ void upsample_nearest2d_forward_kernel(float* __restrict__ out, const float* __restrict__ in,
                                                  int64_t out_rows, int64_t w, int64_t scale) {
  const int64_t ow = w * scale;
  for (int64_t row = first_row(); row < out_rows; row += row_stride()) {
    const float* src = in + row / scale * w;
    for (int64_t x = threadIdx.x; x < ow; x += blockDim.x) {
      out[row * ow + x] = src[static_cast<unsigned>(x) / static_cast<unsigned>(scale)];  // 32-bit: see covering_windows
    }
  }
}

// Input row r collects output rows r * scale ... r * scale + scale - 1.
__global__ void upsample_nearest2d_backward_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                                   int64_t in_rows, int64_t w, int64_t scale) {
  const int64_t ow = w * scale;
  for (int64_t row = first_row(); row < in_rows; row += row_stride()) {
    for (int64_t x = threadIdx.x; x < w; x += blockDim.x) {
      float acc = din[row * w + x];
      for (int64_t dy = 0; dy < scale; ++dy) {
        const float* src = dout + (row * scale + dy) * ow + x * scale;
        for (int64_t dx = 0; dx < scale; ++dx) acc += src[dx];
      }
      din[row * w + x] = acc;
    }
  }
}

}  // namespace

void max_pool2d_forward(float* out, int32_t* argmax, const float* in, const PoolGeom& g) {
  if (g.planes * g.p * g.q <= 0) return;
  const RowLaunch l = row_launch(g.planes * g.p, g.q);
  CFGAN_LAUNCH(max_pool2d_forward_kernel, l.grid, l.block, 0, nullptr, out, argmax, in, g);
}

void max_pool2d_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeom& g) {
  if (g.planes * g.h * g.w <= 0 || g.p * g.q <= 0) return;
  const RowLaunch l = row_launch(g.planes * g.h, g.w);
  CFGAN_LAUNCH(max_pool2d_backward_kernel, l.grid, l.block, 0, nullptr, din, dout, argmax, g);
}

void avg_pool2d_forward(float* out, const float* in, const PoolGeom& g) {
  if (g.planes * g.p * g.q <= 0) return;
  const RowLaunch l = row_launch(g.planes * g.p, g.q);
  const float inv_area = 1.0f / static_cast<float>(g.kernel_h * g.kernel_w);
  CFGAN_LAUNCH(avg_pool2d_forward_kernel, l.grid, l.block, 0, nullptr, out, in, g, inv_area);
}

void avg_pool2d_backward(float* din, const float* dout, const PoolGeom& g) {
  if (g.planes * g.h * g.w <= 0 || g.p * g.q <= 0) return;
  const RowLaunch l = row_launch(g.planes * g.h, g.w);
  const float inv_area = 1.0f / static_cast<float>(g.kernel_h * g.kernel_w);
  CFGAN_LAUNCH(avg_pool2d_backward_kernel, l.grid, l.block, 0, nullptr, din, dout, g, inv_area);
}

void upsample_nearest2d_forward(float* out, const float* in, int64_t planes, int64_t h, int64_t w, int64_t scale) {
  if (planes * h * w * scale <= 0) return;
  const RowLaunch l = row_launch(planes * h * scale, w * scale);
  CFGAN_LAUNCH(upsample_nearest2d_forward_kernel, l.grid, l.block, 0, nullptr, out, in, planes * h * scale, w,
               scale);
}

void upsample_nearest2d_backward(float* din, const float* dout, int64_t planes, int64_t h, int64_t w,
                                 int64_t scale) {
  if (planes * h * w * scale <= 0) return;
  const RowLaunch l = row_launch(planes * h, w);
  CFGAN_LAUNCH(upsample_nearest2d_backward_kernel, l.grid, l.block, 0, nullptr, din, dout, planes * h, w, scale);
}

}  // namespace cfgan::CFGAN_CUDA_NS
