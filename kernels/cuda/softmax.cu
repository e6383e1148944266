// Softmax and log-softmax along the middle axis of (outer, r, inner), matching
// kernels/cpu/softmax.cpp: subtract the maximum, sum the exponentials in double,
// then y = exp(x - max) * (1 / sum) or y = x - max - log(sum).
//
// Rows (inner == 1), the classifier and attention case:
// - r <= 1024: a warp per row with the row in registers (lane l holds elements
//   l + 32 k), so the input is read once; butterfly shuffles give every lane the max
//   and the sum. kPerLane (1 ... 32) is a template parameter, so the register arrays
//   are fixed-size and unrolled.
// - longer rows: a block per row, three passes; the later passes hit L2.
// Columns (inner > 1, e.g. over the channels of NCHW): a thread per (o, i), whose
// loads along r are strided by inner but coalesced across the warp's adjacent i.
#include <cmath>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;
constexpr int64_t kWarpRowMax = 1024;  // longest row a warp holds in registers (32 per lane)

// ---- forward ----

template <int kPerLane, bool kLog>
__global__ void softmax_warp_kernel(float* __restrict__ out, const float* __restrict__ in, int64_t rows, int64_t r) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t warps = int64_t{gridDim.x} * blockDim.x / 32;
  for (int64_t row = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32; row < rows; row += warps) {
    const float* x = in + row * r;
    float* y = out + row * r;
    float v[kPerLane];
    float max = -INFINITY;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t j = lane + 32 * k;
      v[k] = j < r ? __ldg(x + j) : -INFINITY;
      max = fmaxf(max, v[k]);
    }
    max = warp_all_max(max);
    double sum = 0.0;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      if (lane + 32 * k >= r) continue;
      const float e = expf(v[k] - max);
      sum += e;
      if constexpr (!kLog) v[k] = e;
    }
    sum = warp_all_sum(sum);
    if constexpr (kLog) {
      const float log_sum = static_cast<float>(log(sum));
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        if (lane + 32 * k < r) y[lane + 32 * k] = v[k] - max - log_sum;
      }
    } else {
      const float inv = static_cast<float>(1.0 / sum);
#pragma unroll
      for (int k = 0; k < kPerLane; ++k) {
        if (lane + 32 * k < r) y[lane + 32 * k] = v[k] * inv;
      }
    }
  }
}

template <bool kLog>
__global__ void softmax_block_kernel(float* __restrict__ out, const float* __restrict__ in, int64_t rows, int64_t r) {
  __shared__ float max_shared[32];
  __shared__ double sum_shared[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* x = in + row * r;
    float* y = out + row * r;
    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < r; j += blockDim.x) max = fmaxf(max, __ldg(x + j));
    max = block_reduce<MaxValueReducer>(max, max_shared);
    double sum = 0.0;
    for (int64_t j = threadIdx.x; j < r; j += blockDim.x) sum += expf(__ldg(x + j) - max);
    sum = block_reduce<SumReducer>(sum, sum_shared);
    if constexpr (kLog) {
      const float log_sum = static_cast<float>(log(sum));
      for (int64_t j = threadIdx.x; j < r; j += blockDim.x) y[j] = __ldg(x + j) - max - log_sum;
    } else {
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = threadIdx.x; j < r; j += blockDim.x) y[j] = expf(__ldg(x + j) - max) * inv;
    }
  }
}

template <bool kLog>
__global__ void softmax_columns_kernel(float* __restrict__ out, const float* __restrict__ in, int64_t outer,
                                       int64_t r, int64_t inner) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; q < outer * inner; q += stride) {
    const int64_t o = q / inner, base = o * r * inner + (q - o * inner);
    const float* x = in + base;
    float* y = out + base;
    float max = -INFINITY;
    for (int64_t j = 0; j < r; ++j) max = fmaxf(max, __ldg(x + j * inner));
    double sum = 0.0;
    for (int64_t j = 0; j < r; ++j) sum += expf(__ldg(x + j * inner) - max);
    if constexpr (kLog) {
      const float log_sum = static_cast<float>(log(sum));
      for (int64_t j = 0; j < r; ++j) y[j * inner] = __ldg(x + j * inner) - max - log_sum;
    } else {
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j < r; ++j) y[j * inner] = expf(__ldg(x + j * inner) - max) * inv;
    }
  }
}

// ---- backward: softmax din_j += y_j (g_j - sum_k g_k y_k); log din_j += g_j - exp(y_j) sum_k g_k ----

template <bool kLog>
__device__ __forceinline__ double dot_term(float g, float y) {
  if constexpr (kLog) {
    return g;
  } else {
    return g * y;  // the float product, as the CPU adds it
  }
}

template <bool kLog>
__device__ __forceinline__ float input_gradient(float g, float y, float s) {
  if constexpr (kLog) {
    return g - expf(y) * s;
  } else {
    return y * (g - s);
  }
}

template <int kPerLane, bool kLog>
__global__ void softmax_backward_warp_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                             const float* __restrict__ out, int64_t rows, int64_t r) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t warps = int64_t{gridDim.x} * blockDim.x / 32;
  for (int64_t row = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32; row < rows; row += warps) {
    float g[kPerLane], y[kPerLane];
    double dot = 0.0;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t j = lane + 32 * k;
      g[k] = j < r ? __ldg(dout + row * r + j) : 0.0f;
      y[k] = j < r ? __ldg(out + row * r + j) : 0.0f;
      dot += dot_term<kLog>(g[k], y[k]);
    }
    const float s = static_cast<float>(warp_all_sum(dot));
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      if (lane + 32 * k < r) din[row * r + lane + 32 * k] += input_gradient<kLog>(g[k], y[k], s);
    }
  }
}

template <bool kLog>
__global__ void softmax_backward_block_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                              const float* __restrict__ out, int64_t rows, int64_t r) {
  __shared__ double sum_shared[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* g = dout + row * r;
    const float* y = out + row * r;
    double dot = 0.0;
    for (int64_t j = threadIdx.x; j < r; j += blockDim.x) dot += dot_term<kLog>(__ldg(g + j), __ldg(y + j));
    const float s = static_cast<float>(block_reduce<SumReducer>(dot, sum_shared));
    for (int64_t j = threadIdx.x; j < r; j += blockDim.x) {
      din[row * r + j] += input_gradient<kLog>(__ldg(g + j), __ldg(y + j), s);
    }
  }
}

template <bool kLog>
__global__ void softmax_backward_columns_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                                const float* __restrict__ out, int64_t outer, int64_t r,
                                                int64_t inner) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; q < outer * inner; q += stride) {
    const int64_t o = q / inner, base = o * r * inner + (q - o * inner);
    double dot = 0.0;
    for (int64_t j = 0; j < r; ++j) {
      dot += dot_term<kLog>(__ldg(dout + base + j * inner), __ldg(out + base + j * inner));
    }
    const float s = static_cast<float>(dot);
    for (int64_t j = 0; j < r; ++j) {
      din[base + j * inner] += input_gradient<kLog>(__ldg(dout + base + j * inner), __ldg(out + base + j * inner), s);
    }
  }
}

// Calls run(std::integral_constant<int, k>{}) with k = the power of two >= ceil(r / 32).
template <typename Run>
void with_per_lane(int64_t r, Run&& run) {
  if (r <= 32) return run(std::integral_constant<int, 1>{});
  if (r <= 64) return run(std::integral_constant<int, 2>{});
  if (r <= 128) return run(std::integral_constant<int, 4>{});
  if (r <= 256) return run(std::integral_constant<int, 8>{});
  if (r <= 512) return run(std::integral_constant<int, 16>{});
  return run(std::integral_constant<int, 32>{});
}

template <bool kLog>
void launch_softmax_forward(float* out, const float* in, int64_t outer, int64_t r, int64_t inner) {
  if (inner > 1) {
    CFGAN_LAUNCH(softmax_columns_kernel<kLog>, grid_stride_blocks(outer * inner, kThreads), kThreads, 0, nullptr, out,
                 in, outer, r, inner);
  } else if (r <= kWarpRowMax) {
    with_per_lane(r, [&](auto per_lane) {
      CFGAN_LAUNCH((softmax_warp_kernel<per_lane.value, kLog>), grid_stride_blocks(outer, kThreads / 32), kThreads, 0,
                   nullptr, out, in, outer, r);
    });
  } else {
    CFGAN_LAUNCH(softmax_block_kernel<kLog>, grid_stride_blocks(outer, 1), kThreads, 0, nullptr, out, in, outer, r);
  }
}

template <bool kLog>
void launch_softmax_backward(float* din, const float* dout, const float* out, int64_t outer, int64_t r,
                             int64_t inner) {
  if (inner > 1) {
    CFGAN_LAUNCH(softmax_backward_columns_kernel<kLog>, grid_stride_blocks(outer * inner, kThreads), kThreads, 0,
                 nullptr, din, dout, out, outer, r, inner);
  } else if (r <= kWarpRowMax) {
    with_per_lane(r, [&](auto per_lane) {
      CFGAN_LAUNCH((softmax_backward_warp_kernel<per_lane.value, kLog>), grid_stride_blocks(outer, kThreads / 32),
                   kThreads, 0, nullptr, din, dout, out, outer, r);
    });
  } else {
    CFGAN_LAUNCH(softmax_backward_block_kernel<kLog>, grid_stride_blocks(outer, 1), kThreads, 0, nullptr, din, dout,
                 out, outer, r);
  }
}

}  // namespace

void softmax_forward(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, bool log) {
  if (outer * r * inner == 0) return;
  if (log) {
    launch_softmax_forward<true>(out, in, outer, r, inner);
  } else {
    launch_softmax_forward<false>(out, in, outer, r, inner);
  }
}

void softmax_backward(float* din, const float* dout, const float* out, int64_t outer, int64_t r, int64_t inner,
                      bool log) {
  if (outer * r * inner == 0) return;
  if (log) {
    launch_softmax_backward<true>(din, dout, out, outer, r, inner);
  } else {
    launch_softmax_backward<false>(din, dout, out, outer, r, inner);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
