// Losses per element / per row, matching kernels/cpu/loss.cpp (the engine reduces).
//
// BCE with logits is elementwise (elementwise_map(), float4 where aligned), in the stable form
// max(x, 0) - x t + log(1 + exp(-|x|)), which never exponentiates a large positive.
// Cross-entropy works on rows of `classes` logits: a warp per row up to kWarpRowMax
// classes (10 for Fashion-MNIST), a block per row beyond; max first, then the sum of
// exp(x - max) in double, like the CPU.
#include <cmath>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/map.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;
constexpr int64_t kWarpRowMax = 2048;

struct BceForward {
  static constexpr bool kAccumulates = false;
  __device__ float operator()(float x, float t) const { return fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x))); }
};

struct BceBackwardLogits {
  static constexpr bool kAccumulates = true;
  __device__ float operator()(float d, float g, float x, float t) const {
    return d + g * (1.0f / (1.0f + expf(-x)) - t);
  }
};

struct BceBackwardTarget {
  static constexpr bool kAccumulates = true;
  __device__ float operator()(float d, float g, float x) const { return d - g * x; }
};

// The threads that share a row: a warp (kWarpPerRow) or the whole block.
template <bool kWarpPerRow>
struct RowTeam {
  int64_t first_row, row_stride;
  unsigned rank, size;

  __device__ RowTeam() {
    if constexpr (kWarpPerRow) {
      first_row = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32;
      row_stride = int64_t{gridDim.x} * blockDim.x / 32;
      rank = threadIdx.x % 32, size = 32;
    } else {
      first_row = blockIdx.x, row_stride = gridDim.x;
      rank = threadIdx.x, size = blockDim.x;
    }
  }
};

struct RowStats {
  float max;
  double sum;  // of exp(x - max)
};

// Every thread of the team gets the stats of row x (n floats).
template <bool kWarpPerRow>
__device__ __forceinline__ RowStats row_stats(const RowTeam<kWarpPerRow>& team, const float* x, int64_t n,
                                              float* max_shared, double* sum_shared) {
  float max = -INFINITY;
  for (int64_t j = team.rank; j < n; j += team.size) max = fmaxf(max, __ldg(x + j));
  if constexpr (kWarpPerRow) {
    max = warp_all_max(max);
  } else {
    max = block_reduce<MaxValueReducer>(max, max_shared);
  }
  double sum = 0.0;
  for (int64_t j = team.rank; j < n; j += team.size) sum += expf(__ldg(x + j) - max);
  if constexpr (kWarpPerRow) {
    sum = warp_all_sum(sum);
  } else {
    sum = block_reduce<SumReducer>(sum, sum_shared);
  }
  return {max, sum};
}

template <bool kWarpPerRow>
__global__ void cross_entropy_forward_kernel(float* __restrict__ loss, const float* __restrict__ logits,
                                             const int32_t* __restrict__ labels, int64_t rows, int64_t classes) {
  __shared__ float max_shared[32];
  __shared__ double sum_shared[32];
  const RowTeam<kWarpPerRow> team;
  for (int64_t row = team.first_row; row < rows; row += team.row_stride) {
    const float* x = logits + row * classes;
    const RowStats s = row_stats(team, x, classes, max_shared, sum_shared);
    if (team.rank == 0) loss[row] = static_cast<float>(log(s.sum)) + s.max - __ldg(x + __ldg(labels + row));
  }
}

template <bool kWarpPerRow>
__global__ void cross_entropy_backward_kernel(float* __restrict__ dlogits, const float* __restrict__ dloss,
                                              const float* __restrict__ logits, const int32_t* __restrict__ labels,
                                              int64_t rows, int64_t classes) {
  __shared__ float max_shared[32];
  __shared__ double sum_shared[32];
  const RowTeam<kWarpPerRow> team;
  for (int64_t row = team.first_row; row < rows; row += team.row_stride) {
    const float* x = logits + row * classes;
    const RowStats s = row_stats(team, x, classes, max_shared, sum_shared);
    const float inv = static_cast<float>(1.0 / s.sum), g = __ldg(dloss + row);
    const int32_t label = __ldg(labels + row);
    for (int64_t j = team.rank; j < classes; j += team.size) {
      const float p = expf(__ldg(x + j) - s.max) * inv;
      dlogits[row * classes + j] += g * (p - (j == label ? 1.0f : 0.0f));
    }
  }
}

}  // namespace

void bce_with_logits_forward(float* out, const float* logits, const float* target, int64_t n) {
  elementwise_map(BceForward{}, out, n, logits, target);
}

void bce_with_logits_backward(float* dlogits, float* dtarget, const float* dout, const float* logits,
                              const float* target, int64_t n) {
  if (dlogits) elementwise_map(BceBackwardLogits{}, dlogits, n, dout, logits, target);
  if (dtarget) elementwise_map(BceBackwardTarget{}, dtarget, n, dout, logits);
}

void cross_entropy_forward(float* loss, const float* logits, const int32_t* labels, int64_t rows, int64_t classes) {
  if (rows == 0 || classes == 0) return;  // no class to pick: nothing the CPU defines either
  if (classes <= kWarpRowMax) {
    CFGAN_LAUNCH(cross_entropy_forward_kernel<true>, grid_stride_blocks(rows, kThreads / 32), kThreads, 0, nullptr,
                 loss, logits, labels, rows, classes);
  } else {
    CFGAN_LAUNCH(cross_entropy_forward_kernel<false>, grid_stride_blocks(rows, 1), kThreads, 0, nullptr, loss, logits,
                 labels, rows, classes);
  }
}

void cross_entropy_backward(float* dlogits, const float* dloss, const float* logits, const int32_t* labels,
                            int64_t rows, int64_t classes) {
  if (rows == 0 || classes == 0) return;  // no class to pick: nothing the CPU defines either
  if (classes <= kWarpRowMax) {
    CFGAN_LAUNCH(cross_entropy_backward_kernel<true>, grid_stride_blocks(rows, kThreads / 32), kThreads, 0, nullptr,
                 dlogits, dloss, logits, labels, rows, classes);
  } else {
    CFGAN_LAUNCH(cross_entropy_backward_kernel<false>, grid_stride_blocks(rows, 1), kThreads, 0, nullptr, dlogits,
                 dloss, logits, labels, rows, classes);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
