// A kernels/cuda-style source compiled both ways, as a template for real ones:
//   nvcc -std=c++20 -arch=sm_90 -I<repo> -c kernels/emu/example.cu
//   g++ -std=c++20 -x c++ -DCFGAN_CUDA_EMU -I<repo> -c kernels/emu/example.cu
// tests/test_emu_example.cpp includes it in the emulated form and checks it.
#include <cstdint>

#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

// y (n) += alpha * x (n); grid-stride, so any grid covers any n.
__global__ void example_axpy_kernel(float* __restrict__ y, float alpha, const float* __restrict__ x, int64_t n) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = __fmaf_rn(alpha, __ldg(x + i), y[i]);
  }
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// *out += sum of x (n). Each warp reduces with shuffles, warp totals meet in dynamic
// shared memory (one float per warp), warp 0 reduces those, one atomic per block.
// blockDim.x must be a multiple of 32 (full warps for the full-mask shuffles).
__global__ void example_sum_kernel(float* out, const float* __restrict__ x, int64_t n) {
  CFGAN_DYNAMIC_SHARED(float, warp_totals);
  float v = 0.0f;
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) v += x[i];
  v = warp_sum(v);
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, num_warps = blockDim.x / 32;
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < num_warps ? warp_totals[lane] : 0.0f;
    v = warp_sum(v);
    if (lane == 0) atomicAdd(out, v);
  }
}

unsigned grid_for(int64_t n, unsigned block) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > 1024 ? 1024 : blocks);
}

}  // namespace

void example_axpy(float* y, float alpha, const float* x, int64_t n, cudaStream_t stream) {
  const unsigned block = 256;
  CFGAN_LAUNCH(example_axpy_kernel, grid_for(n, block), block, 0, stream, y, alpha, x, n);
}

// out is one float in device memory; it is overwritten.
void example_sum(float* out, const float* x, int64_t n, cudaStream_t stream) {
  const unsigned block = 256;
  cudaMemsetAsync(out, 0, sizeof(float), stream);
  CFGAN_LAUNCH(example_sum_kernel, grid_for(n, block), block, block / 32 * sizeof(float), stream, out, x, n);
}

}  // namespace cfgan::CFGAN_CUDA_NS
