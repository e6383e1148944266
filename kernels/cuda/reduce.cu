// Sum and max over the middle axis of (outer, r, inner), matching kernels/cpu/reduce.cpp.
// The forward kernels are kernels/cuda/reduction.cuh's (a thread, warp or tile of
// threads per output by layout, r split over blocks when outputs are few; sums in
// double in a fixed order). The backward kernels are elementwise over din.
#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/offsets.cuh"
#include "kernels/cuda/reduction.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;

struct StoreScaledSum {
  float* out;
  float scale;
  __device__ void operator()(int64_t q, double sum) const { out[q] = static_cast<float>(sum * scale); }
};

struct StoreMax {
  float* out;
  int32_t* argmax;
  __device__ void operator()(int64_t q, ArgMax m) const {
    out[q] = m.value;
    argmax[q] = m.index;
  }
};

// din (outer, r, inner) += scale * dout (outer, inner): element e reads dout at
// (e / (r * inner)) * inner + e % inner.
template <typename Index>
__global__ void reduce_sum_backward_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                           Divmod<Index> slab, Divmod<Index> inner, Index n, float scale) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  for (Index e = Index{blockIdx.x} * blockDim.x + threadIdx.x; e < n; e += stride) {
    const Index o = slab.div(e);
    const Index i = e - inner.div(e) * static_cast<Index>(inner.divisor);
    din[e] += scale * __ldg(dout + o * static_cast<Index>(inner.divisor) + i);
  }
}

// One thread per output: the argmax positions are distinct elements of din.
__global__ void reduce_max_backward_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                           const int32_t* __restrict__ argmax, int64_t outputs, int64_t r,
                                           int64_t inner) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; q < outputs; q += stride) {
    const int64_t o = q / inner, i = q - o * inner;
    din[(o * r + __ldg(argmax + q)) * inner + i] += __ldg(dout + q);
  }
}

}  // namespace

int64_t reduce_workspace_bytes(int64_t outer, int64_t r, int64_t inner) {
  return plan_reduce(outer, r, inner).scratch_bytes();
}

void reduce_sum(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, float scale, void* workspace) {
  reduce_middle<SumReducer>(in, outer, r, inner, StoreScaledSum{out, scale}, workspace);
}

void reduce_sum_backward(float* din, const float* dout, int64_t outer, int64_t r, int64_t inner, float scale) {
  const int64_t n = outer * r * inner;
  if (n == 0) return;
  if (n <= kMaxIndex32) {
    CFGAN_LAUNCH(reduce_sum_backward_kernel<uint32_t>, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, din,
                 dout, FastDivmod(static_cast<uint32_t>(r * inner)), FastDivmod(static_cast<uint32_t>(inner)),
                 static_cast<uint32_t>(n), scale);
  } else {
    CFGAN_LAUNCH(reduce_sum_backward_kernel<int64_t>, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, din,
                 dout, PlainDivmod(r * inner), PlainDivmod(inner), n, scale);
  }
}

// r == 0 has no maximum; the engine never asks (the CPU would read past the input).
void reduce_max(float* out, int32_t* argmax, const float* in, int64_t outer, int64_t r, int64_t inner,
                void* workspace) {
  if (r == 0) return;
  reduce_middle<MaxReducer>(in, outer, r, inner, StoreMax{out, argmax}, workspace);
}

void reduce_max_backward(float* din, const float* dout, const int32_t* argmax, int64_t outer, int64_t r,
                         int64_t inner) {
  const int64_t outputs = outer * inner;
  if (outputs == 0) return;
  CFGAN_LAUNCH(reduce_max_backward_kernel, grid_stride_blocks(outputs, kThreads), kThreads, 0, nullptr, din, dout,
               argmax, outputs, r, inner);
}

}  // namespace cfgan::CFGAN_CUDA_NS
