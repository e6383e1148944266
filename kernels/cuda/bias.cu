// Per-channel bias over (outer, C, inner), matching kernels/cpu/bias.cpp.
//
// bias_add is elementwise; a float4 stays within one channel when inner % 4 == 0
// (conv maps), or covers 4 consecutive channels when inner == 1 and C % 4 == 0 (linear
// layers), so both common layouts move 16 bytes per access.
//
// bias_backward is a reduction per channel. For a linear layer (inner == 1) it is a
// column sum of the (outer, C) gradient: kernels/cuda/reduction.cuh's tile kernel, a
// warp across 32 adjacent channels. For a conv layer a block sums a channel's outer
// rows of inner contiguous floats; few channels (64 of them, a batch of 128 maps)
// would leave most SMs idle, so the batch is split over blocks and the last block of
// a channel combines the partials in a fixed order. Sums are double, as on the CPU.
#include <algorithm>

#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/offsets.cuh"
#include "kernels/cuda/reduction.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;

// Element e of out gets bias[(e / inner) % channels].
template <typename Index>
__global__ void bias_add_kernel(float* __restrict__ out, const float* __restrict__ bias, Divmod<Index> inner,
                                Divmod<Index> channels, Index n) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  for (Index e = Index{blockIdx.x} * blockDim.x + threadIdx.x; e < n; e += stride) {
    const Index row = inner.div(e);
    out[e] += __ldg(bias + row - channels.div(row) * static_cast<Index>(channels.divisor));
  }
}

// inner % 4 == 0: float4 v lies in row v / (inner / 4), channel row % channels.
template <typename Index>
__global__ void bias_add_rows4_kernel(float4* __restrict__ out, const float* __restrict__ bias,
                                      Divmod<Index> inner4, Divmod<Index> channels, Index n4) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  for (Index v = Index{blockIdx.x} * blockDim.x + threadIdx.x; v < n4; v += stride) {
    const Index row = inner4.div(v);
    const float b = __ldg(bias + row - channels.div(row) * static_cast<Index>(channels.divisor));
    float4 x = out[v];
    x.x += b, x.y += b, x.z += b, x.w += b;
    out[v] = x;
  }
}

// inner == 1 and channels % 4 == 0: float4 v covers channels 4 (v % (channels / 4)) + 0..3.
template <typename Index>
__global__ void bias_add_channels4_kernel(float4* __restrict__ out, const float4* __restrict__ bias,
                                          Divmod<Index> channels4, Index n4) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  for (Index v = Index{blockIdx.x} * blockDim.x + threadIdx.x; v < n4; v += stride) {
    const float4 b = __ldg(bias + v - channels4.div(v) * static_cast<Index>(channels4.divisor));
    float4 x = out[v];
    x.x += b.x, x.y += b.y, x.z += b.z, x.w += b.w;
    out[v] = x;
  }
}

template <typename Index>
void launch_bias_add(float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner) {
  const int64_t n = outer * channels * inner;
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  const auto index = [](int64_t v) { return static_cast<Index>(v); };
  if (aligned(out) && inner % 4 == 0) {
    CFGAN_LAUNCH(bias_add_rows4_kernel<Index>, grid_stride_blocks(n / 4, kThreads), kThreads, 0, nullptr,
                 reinterpret_cast<float4*>(out), bias, Divmod<Index>(index(inner / 4)),
                 Divmod<Index>(index(channels)), index(n / 4));
  } else if (aligned(out) && aligned(bias) && inner == 1 && channels % 4 == 0) {
    CFGAN_LAUNCH(bias_add_channels4_kernel<Index>, grid_stride_blocks(n / 4, kThreads), kThreads, 0, nullptr,
                 reinterpret_cast<float4*>(out), reinterpret_cast<const float4*>(bias),
                 Divmod<Index>(index(channels / 4)), index(n / 4));
  } else {
    CFGAN_LAUNCH(bias_add_kernel<Index>, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, out, bias,
                 Divmod<Index>(index(inner)), Divmod<Index>(index(channels)), index(n));
  }
}

struct AccumulateSum {
  float* out;
  __device__ void operator()(int64_t q, double sum) const { out[q] += static_cast<float>(sum); }
};

// blockIdx.x strides over channels, blockIdx.y takes batch rows
// [y * rows_per_split, (y + 1) * rows_per_split); a row of channel c is inner floats
// at (o * channels + c) * inner. Element k of the block's range is row k / inner.
template <typename Index>
__global__ void bias_backward_channel_kernel(float* __restrict__ dbias, const float* __restrict__ dout,
                                             int64_t outer, int64_t channels, Divmod<Index> inner,
                                             int64_t rows_per_split, reduction_detail::SplitScratch scratch) {
  __shared__ double warp_sums[32];
  __shared__ bool is_last;
  const int64_t o_begin = blockIdx.y * rows_per_split, o_end = min(outer, o_begin + rows_per_split);
  const Index width = static_cast<Index>(inner.divisor);
  const Index count = static_cast<Index>(o_end - o_begin) * width;
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    const float* base = dout + (o_begin * channels + c) * width;
    double acc = 0.0;
    for (Index k = threadIdx.x; k < count; k += blockDim.x) {
      const Index o = inner.div(k);
      acc += __ldg(base + int64_t{o} * channels * width + (k - o * width));
    }
    acc = block_reduce<SumReducer>(acc, warp_sums);
    finish_tile<SumReducer>(c, 1, 1, acc, [&](unsigned, double total) { dbias[c] += static_cast<float>(total); },
                            &is_last, scratch);
    __syncthreads();  // is_last is rewritten for the next channel
  }
}

// Split the batch when the channels leave SMs idle, keeping 16 or more floats per thread in
// each split, as far as kMaxSplitPartials allows.
int64_t channel_splits(int64_t outer, int64_t channels, int64_t inner) {
  using namespace reduction_detail;
  int64_t splits = 1;
  if (channels < kResidentBlocks && channels <= kMaxSplitTiles) {
    splits = std::min({(2 * kResidentBlocks + channels - 1) / channels, outer * inner / (16 * int64_t{kThreads}),
                       kMaxSplitPartials / channels, outer});
    splits = std::max<int64_t>(splits, 1);
  }
  const int64_t rows_per_split = (outer + splits - 1) / splits;
  return (outer + rows_per_split - 1) / rows_per_split;
}

template <typename Index>
void launch_bias_backward_channels(float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner,
                                   void* workspace) {
  const int64_t splits = channel_splits(outer, channels, inner), rows_per_split = (outer + splits - 1) / splits;
  const auto scratch = reduction_detail::carve_split_scratch(workspace, channels, 1, splits);
  const dim3 grid(grid_stride_blocks(channels, 1), static_cast<unsigned>(splits));
  CFGAN_LAUNCH(bias_backward_channel_kernel<Index>, grid, kThreads, 0, nullptr, dbias, dout, outer, channels,
               Divmod<Index>(static_cast<Index>(inner)), rows_per_split, scratch);
}

}  // namespace

void bias_add(float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner) {
  const int64_t n = outer * channels * inner;
  if (n == 0) return;
  if (n <= kMaxIndex32) {
    launch_bias_add<uint32_t>(out, bias, outer, channels, inner);
  } else {
    launch_bias_add<int64_t>(out, bias, outer, channels, inner);
  }
}

int64_t bias_backward_workspace_bytes(int64_t outer, int64_t channels, int64_t inner) {
  if (channels == 0 || outer * inner == 0) return 0;
  if (inner == 1) return plan_reduce(1, outer, channels).scratch_bytes();
  return reduction_detail::split_scratch_bytes(channels, 1, channel_splits(outer, channels, inner));
}

void bias_backward(float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner, void* workspace) {
  if (channels == 0 || outer * inner == 0) return;  // nothing to add
  if (inner == 1) {
    reduce_middle<SumReducer>(dout, 1, outer, channels, AccumulateSum{dbias}, workspace);
  } else if (outer * inner <= kMaxIndex32) {
    launch_bias_backward_channels<uint32_t>(dbias, dout, outer, channels, inner, workspace);
  } else {
    launch_bias_backward_channels<int64_t>(dbias, dout, outer, channels, inner, workspace);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
