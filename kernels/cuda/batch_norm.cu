// Batch norm over (N, C, HW), statistics per channel, matching kernels/cpu/batch_norm.cpp.
//
// Layout. A channel is N rows of HW contiguous floats (row b at (b * C + ch) * HW). A
// block is one warp wide (32 columns) and 8 rows tall; it takes a group of channels
// next to each other in memory: 32 / HW of them when HW < 32, so that a warp reads 32
// contiguous floats of whole channels (DCGAN's BatchNorm1d: HW = 1, 32 channels per
// block), else one. Rows are batch entries.
//
// Parallelism. Many channel groups (C = 6272, HW = 1) fill the GPU one block each, and
// that block does everything in one launch: statistics, then the elementwise pass over
// the same data, still in L1/L2 (the "fused" stage). Few groups (C = 64, HW = 64x64,
// N = 128) would leave most SMs idle, so each group is split along the batch and, for
// wide channels, along HW: one launch writes per-(channel, split) partial sums, a
// second one sums them in a fixed order and applies.
//
// Accuracy. Sums are double per thread, so a channel of 64 values and one of half a
// million are both as exact as the CPU's double two-pass scheme. The forward pass is
// one-pass over data shifted by the channel's first value, K: sum (x - K) and
// sum (x - K)^2 in double lose nothing to cancellation unless the spread is 10^8 times
// smaller than |mean - K|. Every reduction has a fixed order: results repeat bit for
// bit from run to run.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kCols = 32;  // blockDim.x: a warp across contiguous columns
constexpr unsigned kRows = 8;   // blockDim.y: batch rows in flight per block
constexpr int64_t kMinElementsPerSplit = 4096;
constexpr int64_t kMinColumnsPerSplit = 4 * kCols;
constexpr int64_t kMaxGridY = 65535;
constexpr int64_t kMaxPartials = int64_t{1} << 16;  // bounds the split path's workspace (1.5 MiB)

// The split path's state between its two launches, in the caller's workspace: partial
// sums per (channel, split) and each channel's Pass::Pre (the forward's shift K is an
// input value, which an in-place apply launch may already have overwritten).
struct SplitSums {
  double* s1;   // (C, splits)
  double* s2;   // (C, splits)
  double* pre;  // (C)
};

// How the (channel groups x splits) grid covers the tensor; see the top of the file.
struct Tiling {
  int64_t n, c, hw;
  int64_t channels_per_block;
  int64_t row_splits, rows_per_split;
  int64_t col_splits, cols_per_split;  // col_splits > 1 only with one channel per block
};

// What one block covers: rows [row_begin, row_end) and columns [col_begin, col_end) of
// its channel group, whose columns start at (b * C + ch0) * HW in row b.
struct Tile {
  int64_t ch0, channels;
  int64_t row_begin, row_end, col_begin, col_end;
};

__device__ Tile block_tile(const Tiling& t) {
  Tile tile;
  tile.ch0 = int64_t{blockIdx.x} * t.channels_per_block;
  tile.channels = min(t.channels_per_block, t.c - tile.ch0);
  const int64_t row_split = blockIdx.y / t.col_splits, col_split = blockIdx.y % t.col_splits;
  tile.row_begin = row_split * t.rows_per_split;
  tile.row_end = min(t.n, tile.row_begin + t.rows_per_split);
  tile.col_begin = col_split * t.cols_per_split;
  tile.col_end = min(tile.channels * t.hw, tile.col_begin + t.cols_per_split);
  return tile;
}

// Calls f(index) for this thread's elements of the tile; they all belong to channel
// ch0 + threadIdx.x / HW (a thread's column never leaves its channel).
template <typename F>
__device__ __forceinline__ void for_each_element(const Tiling& t, const Tile& tile, F&& f) {
  for (int64_t b = tile.row_begin + threadIdx.y; b < tile.row_end; b += blockDim.y) {
    const int64_t row = (b * t.c + tile.ch0) * t.hw;
    for (int64_t j = tile.col_begin + threadIdx.x; j < tile.col_end; j += blockDim.x) f(row + j);
  }
}

// Sums every thread's (s1, s2) per channel of the tile, in a fixed order: over rows in
// shared memory, then over the columns of each channel. Lanes x < tile.channels of row
// 0 get channel ch0 + x's totals in (s1, s2). Every thread of the block calls it.
__device__ void block_channel_sums(int64_t hw, const Tile& tile, double& s1, double& s2) {
  __shared__ double part1[kRows][kCols], part2[kRows][kCols];
  part1[threadIdx.y][threadIdx.x] = s1;
  part2[threadIdx.y][threadIdx.x] = s2;
  __syncthreads();
  if (threadIdx.y == 0) {
    double c1 = 0.0, c2 = 0.0;
    for (unsigned y = 0; y < blockDim.y; ++y) c1 += part1[y][threadIdx.x], c2 += part2[y][threadIdx.x];
    part1[0][threadIdx.x] = c1;
    part2[0][threadIdx.x] = c2;
    __syncwarp();
    if (threadIdx.x < tile.channels) {
      const int64_t first = threadIdx.x * hw, last = min(first + hw, int64_t{kCols});
      s1 = s2 = 0.0;
      for (int64_t col = first; col < last; ++col) s1 += part1[0][col], s2 += part2[0][col];
    }
  }
}

// ---- the four passes: what a channel accumulates, finalizes and applies ----

// Training forward: sums of x - K and (x - K)^2; writes save_mean / save_invstd and
// the running statistics (unbiased variance), as the CPU does in double.
struct ForwardTrain {
  float* out;
  float* save_mean;
  float* save_invstd;
  float* running_mean;
  float* running_var;
  const float* in;
  const float* gamma;
  const float* beta;
  float momentum, eps;
  int64_t hw, count;

  struct Pre {
    double shift;
  };
  struct Coef {
    float scale, shift;
  };
  __host__ __device__ bool reduces() const { return true; }
  __host__ __device__ bool applies() const { return true; }
  __device__ Pre pre(int64_t ch) const { return {in[ch * hw]}; }
  __device__ void accumulate(const Pre& k, int64_t i, double& s1, double& s2) const {
    const double d = double{in[i]} - k.shift;
    s1 += d;
    s2 += d * d;
  }
  __device__ Coef finalize(int64_t ch, const Pre& k, double s1, double s2, bool write) const {
    const double mean_shifted = s1 / count;
    const double sq = fmax(s2 - s1 * mean_shifted, 0.0);  // sum (x - mean)^2
    const double mean = k.shift + mean_shifted, var = sq / count;
    const float invstd = static_cast<float>(1.0 / sqrt(var + eps));
    const float scale = (gamma ? gamma[ch] : 1.0f) * invstd;
    const float shift = (beta ? beta[ch] : 0.0f) - static_cast<float>(mean) * scale;
    if (write) {
      save_mean[ch] = static_cast<float>(mean);
      save_invstd[ch] = invstd;
      if (running_mean) {
        const double unbiased = count > 1 ? sq / (count - 1) : var;
        running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
        running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
      }
    }
    return {scale, shift};
  }
  __device__ void apply(const Coef& k, int64_t i) const { out[i] = in[i] * k.scale + k.shift; }
};

// Eval forward: elementwise with the running statistics.
struct ForwardEval {
  float* out;
  const float* in;
  const float* running_mean;
  const float* running_var;
  const float* gamma;
  const float* beta;
  float eps;

  struct Pre {};
  using Coef = ForwardTrain::Coef;
  __host__ __device__ bool reduces() const { return false; }
  __host__ __device__ bool applies() const { return true; }
  __device__ Pre pre(int64_t) const { return {}; }
  __device__ void accumulate(const Pre&, int64_t, double&, double&) const {}
  __device__ Coef finalize(int64_t ch, const Pre&, double, double, bool) const {
    const float invstd = 1.0f / sqrtf(running_var[ch] + eps);
    const float scale = (gamma ? gamma[ch] : 1.0f) * invstd;
    return {scale, (beta ? beta[ch] : 0.0f) - running_mean[ch] * scale};
  }
  __device__ void apply(const Coef& k, int64_t i) const { out[i] = in[i] * k.scale + k.shift; }
};

// The backward passes' sums, sum dy and sum dy * xhat, each term formed in float as the
// CPU forms it, and their addition to the parameter gradients that are wanted.
struct ChannelStats {
  float mean, invstd;
};
__device__ __forceinline__ void accumulate_dy_xhat(float dy, float x, const ChannelStats& k, double& s1, double& s2) {
  s1 += dy;
  s2 += dy * (x - k.mean) * k.invstd;
}
__device__ void add_param_grads(float* dgamma, float* dbeta, int64_t ch, double sum_dy, double sum_dy_xhat) {
  if (dbeta) dbeta[ch] += static_cast<float>(sum_dy);
  if (dgamma) dgamma[ch] += static_cast<float>(sum_dy_xhat);
}

// Training backward, xhat = (x - mean) * invstd, M = N * HW:
// dbeta += sum dy, dgamma += sum dy * xhat, din += gamma * invstd * (dy - sum dy / M - xhat * sum dy xhat / M).
struct BackwardTrain {
  float* din;
  float* dgamma;
  float* dbeta;
  const float* dout;
  const float* in;
  const float* save_mean;
  const float* save_invstd;
  const float* gamma;
  int64_t count;
  bool adds_to_din;  // else din is written

  using Pre = ChannelStats;
  struct Coef {
    float mean, invstd, scale, mean_dy, mean_dy_xhat;
  };
  __host__ __device__ bool reduces() const { return true; }
  __host__ __device__ bool applies() const { return din != nullptr; }
  __device__ Pre pre(int64_t ch) const { return {save_mean[ch], save_invstd[ch]}; }
  __device__ void accumulate(const Pre& k, int64_t i, double& s1, double& s2) const {
    accumulate_dy_xhat(dout[i], in[i], k, s1, s2);
  }
  __device__ Coef finalize(int64_t ch, const Pre& k, double s1, double s2, bool write) const {
    if (write) add_param_grads(dgamma, dbeta, ch, s1, s2);
    return {k.mean, k.invstd, (gamma ? gamma[ch] : 1.0f) * k.invstd, static_cast<float>(s1 / count),
            static_cast<float>(s2 / count)};
  }
  __device__ void apply(const Coef& k, int64_t i) const {
    const float xhat = (in[i] - k.mean) * k.invstd;
    din[i] = (adds_to_din ? din[i] : 0.0f) + k.scale * (dout[i] - k.mean_dy - xhat * k.mean_dy_xhat);
  }
};

// Eval backward: the running statistics are constants, so din += gamma * invstd * dy
// needs no reduction; dgamma and dbeta (when wanted) do.
struct BackwardEval {
  float* din;
  float* dgamma;
  float* dbeta;
  const float* dout;
  const float* in;
  const float* running_mean;
  const float* running_var;
  const float* gamma;
  float eps;

  using Pre = ChannelStats;
  struct Coef {
    float scale;
  };
  __host__ __device__ bool reduces() const { return dgamma != nullptr || dbeta != nullptr; }
  __host__ __device__ bool applies() const { return din != nullptr; }
  __device__ Pre pre(int64_t ch) const { return {running_mean[ch], 1.0f / sqrtf(running_var[ch] + eps)}; }
  __device__ void accumulate(const Pre& k, int64_t i, double& s1, double& s2) const {
    accumulate_dy_xhat(dout[i], in[i], k, s1, s2);
  }
  __device__ Coef finalize(int64_t ch, const Pre& k, double s1, double s2, bool write) const {
    if (write) add_param_grads(dgamma, dbeta, ch, s1, s2);
    return {(gamma ? gamma[ch] : 1.0f) * k.invstd};
  }
  __device__ void apply(const Coef& k, int64_t i) const { din[i] += k.scale * dout[i]; }
};

// ---- the kernel, in three stages ----

enum class Stage {
  fused,           // one split per channel group: reduce, finalize, apply
  partial_sums,    // split path, launch 1: this split's sums to the workspace
  apply_partials,  // split path, launch 2: sum the splits, finalize, apply
};

template <typename Pass, Stage kStage>
__global__ void __launch_bounds__(kCols* kRows) batch_norm_kernel(Pass pass, Tiling t, SplitSums sums) {
  using Pre = typename Pass::Pre;
  static_assert(sizeof(Pre) <= sizeof(double), "SplitSums::pre holds one double per channel");
  __shared__ typename Pass::Coef coef[kCols];
  const Tile tile = block_tile(t);
  const int64_t local = threadIdx.x / t.hw;  // this thread's channel in the group
  const bool has_channel = local < tile.channels;
  double s1 = 0.0, s2 = 0.0;
  if (kStage != Stage::apply_partials && pass.reduces()) {
    if (has_channel) {
      const Pre pre = pass.pre(tile.ch0 + local);
      for_each_element(t, tile, [&](int64_t i) { pass.accumulate(pre, i, s1, s2); });
    }
    block_channel_sums(t.hw, tile, s1, s2);
  }
  const bool channel_lane = threadIdx.y == 0 && threadIdx.x < tile.channels;
  const int64_t lane_ch = tile.ch0 + threadIdx.x;
  if constexpr (kStage == Stage::partial_sums) {
    if (channel_lane) {
      sums.s1[lane_ch * gridDim.y + blockIdx.y] = s1;
      sums.s2[lane_ch * gridDim.y + blockIdx.y] = s2;
      if (blockIdx.y == 0) {
        const Pre pre = pass.pre(lane_ch);
        memcpy(&sums.pre[lane_ch], &pre, sizeof(Pre));
      }
    }
    return;
  }
  if (channel_lane) {
    Pre pre;
    if (kStage == Stage::apply_partials && pass.reduces()) {
      for (unsigned split = 0; split < gridDim.y; ++split) {
        s1 += sums.s1[lane_ch * gridDim.y + split];
        s2 += sums.s2[lane_ch * gridDim.y + split];
      }
      memcpy(&pre, &sums.pre[lane_ch], sizeof(Pre));
    } else {
      pre = pass.pre(lane_ch);
    }
    coef[threadIdx.x] = pass.finalize(lane_ch, pre, s1, s2, blockIdx.y == 0);
  }
  __syncthreads();
  if (pass.applies() && has_channel) {
    const typename Pass::Coef k = coef[local];
    for_each_element(t, tile, [&](int64_t i) { pass.apply(k, i); });
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Splits per channel group: enough blocks to fill the GPU, each with at least
// kMinElementsPerSplit elements, at most kMaxPartials partial sums when reducing. The
// plan depends on the shape only, so results repeat on every device.
Tiling plan(int64_t n, int64_t c, int64_t hw, bool reduces) {
  Tiling t{};
  t.n = n, t.c = c, t.hw = hw;
  t.channels_per_block = hw < kCols ? kCols / hw : 1;
  const int64_t groups = ceil_div(c, t.channels_per_block);
  const int64_t group_elements = n * min(t.channels_per_block, c) * hw;
  int64_t splits = min(ceil_div(kResidentBlocks, groups), max(int64_t{1}, group_elements / kMinElementsPerSplit));
  if (reduces) splits = min(splits, kMaxPartials / c);
  splits = max(int64_t{1}, min(splits, kMaxGridY));
  t.row_splits = min(splits, ceil_div(n, kRows));
  t.rows_per_split = ceil_div(n, t.row_splits);
  t.row_splits = ceil_div(n, t.rows_per_split);
  const int64_t cols = t.channels_per_block * hw;
  t.col_splits = t.channels_per_block == 1 ? max(int64_t{1}, min(splits / t.row_splits, cols / kMinColumnsPerSplit))
                                           : 1;
  t.cols_per_split = ceil_div(ceil_div(cols, t.col_splits), kCols) * kCols;
  t.col_splits = ceil_div(cols, t.cols_per_split);
  return t;
}

dim3 grid_of(const Tiling& t) {
  return dim3(static_cast<unsigned>(ceil_div(t.c, t.channels_per_block)),
              static_cast<unsigned>(t.row_splits * t.col_splits));
}

// `workspace` holds workspace_bytes(n, c, hw) bytes (none for a pass that does not reduce).
template <typename Pass>
void run(const Pass& pass, int64_t n, int64_t c, int64_t hw, void* workspace) {
  const bool reduces = pass.reduces();
  const Tiling t = plan(n, c, hw, reduces);
  const dim3 grid = grid_of(t), block(kCols, kRows);
  if (grid.y == 1 || !reduces) {
    CFGAN_LAUNCH((batch_norm_kernel<Pass, Stage::fused>), grid, block, 0, nullptr, pass, t, SplitSums{});
    return;
  }
  auto* base = static_cast<double*>(workspace);
  const SplitSums sums{base, base + c * grid.y, base + 2 * c * grid.y};
  CFGAN_LAUNCH((batch_norm_kernel<Pass, Stage::partial_sums>), grid, block, 0, nullptr, pass, t, sums);
  CFGAN_LAUNCH((batch_norm_kernel<Pass, Stage::apply_partials>), grid, block, 0, nullptr, pass, t, sums);
}

}  // namespace

// The split path's partial sums and per-channel values; the same plan as a reducing pass's.
int64_t batch_norm_workspace_bytes(int64_t n, int64_t c, int64_t hw) {
  if (n <= 0 || c <= 0 || hw <= 0) return 0;
  const int64_t splits = grid_of(plan(n, c, hw, true)).y;
  return splits == 1 ? 0 : (2 * splits + 1) * c * int64_t{sizeof(double)};
}

void batch_norm_forward_train(float* out, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, const float* in, const float* gamma, const float* beta, int64_t n,
                              int64_t c, int64_t hw, float momentum, float eps, void* workspace) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const ForwardTrain pass{out, save_mean, save_invstd, running_mean, running_var, in, gamma, beta,
                          momentum, eps, hw, n * hw};
  run(pass, n, c, hw, workspace);
}

void batch_norm_forward_eval(float* out, const float* in, const float* running_mean, const float* running_var,
                             const float* gamma, const float* beta, int64_t n, int64_t c, int64_t hw, float eps) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  run(ForwardEval{out, in, running_mean, running_var, gamma, beta, eps}, n, c, hw, nullptr);
}

void batch_norm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                         const float* save_mean, const float* save_invstd, const float* gamma, int64_t n, int64_t c,
                         int64_t hw, void* workspace, bool accumulate) {
  if (n <= 0 || c <= 0 || hw <= 0 || (!din && !dgamma && !dbeta)) return;
  const BackwardTrain pass{din, dgamma, dbeta, dout, in, save_mean, save_invstd, gamma, n * hw, accumulate};
  run(pass, n, c, hw, workspace);
}

void batch_norm_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                              const float* running_mean, const float* running_var, const float* gamma, int64_t n,
                              int64_t c, int64_t hw, float eps, void* workspace) {
  if (n <= 0 || c <= 0 || hw <= 0 || (!din && !dgamma && !dbeta)) return;
  const BackwardEval pass{din, dgamma, dbeta, dout, in, running_mean, running_var, gamma, eps};
  run(pass, n, c, hw, workspace);
}

}  // namespace cfgan::CFGAN_CUDA_NS
