// Elementwise maps over contiguous float arrays: out[i] = f(in_0[i], in_1[i], ...), or
// out[i] = f(out[i], in_0[i], ...) when the functor accumulates (F::kAccumulates).
//
// A functor is a small struct with a __device__ operator() over floats and a
// `static constexpr bool kAccumulates`. The map moves 16 bytes per access (float4)
// when every pointer has the same offset modulo 16 bytes: a scalar head brings them
// to a 16-byte boundary (so `data() + 1` views still vectorize), float4 groups cover
// the middle, a scalar tail the last n % 4. Mismatched offsets take the scalar loop.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {
namespace map_detail {

constexpr unsigned kThreads = 256;

template <typename F, typename... Ptr>
__device__ __forceinline__ void apply_scalar(const F& f, float* out, int64_t i, Ptr... in) {
  if constexpr (F::kAccumulates) {
    out[i] = f(out[i], __ldg(in + i)...);
  } else {
    out[i] = f(__ldg(in + i)...);
  }
}

template <typename F, typename... V>
__device__ __forceinline__ float4 apply4(const F& f, V... v) {
  return make_float4(f(v.x...), f(v.y...), f(v.z...), f(v.w...));
}

template <typename F, typename... Ptr>
__device__ __forceinline__ void apply_vector(const F& f, float* out, int64_t i, Ptr... in) {
  float4* o = reinterpret_cast<float4*>(out + i);
  if constexpr (F::kAccumulates) {
    *o = apply4(f, *o, __ldg(reinterpret_cast<const float4*>(in + i))...);
  } else {
    *o = apply4(f, __ldg(reinterpret_cast<const float4*>(in + i))...);
  }
}

template <typename F, typename... Ptr>
__global__ void map_scalar_kernel(F f, int64_t n, float* out, Ptr... in) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) apply_scalar(f, out, i, in...);
}

// Elements [0, head) and [head + 4 * vectors, n) are scalar, the float4 groups in
// between start at 16-byte boundaries of every pointer.
template <typename F, typename... Ptr>
__global__ void map_vector_kernel(F f, int64_t n, int64_t head, int64_t vectors, float* out, Ptr... in) {
  const int64_t first = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  const int64_t tail = head + 4 * vectors;
  if (first < head) apply_scalar(f, out, first, in...);
  if (first < n - tail) apply_scalar(f, out, tail + first, in...);
  for (int64_t v = first; v < vectors; v += stride) apply_vector(f, out, head + 4 * v, in...);
}

inline uintptr_t misalignment(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16; }

}  // namespace map_detail

// out (n) = f(in...) or f(out, in...); every `in` is a const float* of n elements.
template <typename F, typename... Ptr>
void elementwise_map(const F& f, float* out, int64_t n, Ptr... in) {
  using namespace map_detail;
  if (n <= 0) return;
  const uintptr_t offset = misalignment(out);
  if (offset % sizeof(float) == 0 && ((misalignment(in) == offset) && ...)) {
    const int64_t head = std::min<int64_t>(n, (16 - offset) % 16 / sizeof(float));
    const int64_t vectors = (n - head) / 4;
    CFGAN_LAUNCH((map_vector_kernel<F, Ptr...>), grid_stride_blocks(vectors, kThreads),
                 kThreads, 0, nullptr, f, n, head, vectors, out, in...);
  } else {
    CFGAN_LAUNCH((map_scalar_kernel<F, Ptr...>), grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, f, n, out,
                 in...);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
