// Philox random tensors, the same stream as kernels/cpu/random.cpp: one thread per
// 128-bit Philox block, so element i is word i % 4 of block offset + i / 4 on both
// backends. Uniform values and dropout masks are therefore bit-identical to the CPU's;
// normals go through logf / sinf / cosf, whose last bit may differ from glibc's.
#include <cstdint>

#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/philox.h"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;

// Four consecutive elements starting at 4 * block: one 16-byte access when the
// pointer is 16-byte aligned and all four exist, else element by element.
__device__ __forceinline__ void store4(float* out, int64_t block, int64_t n, bool aligned, const float (&v)[4]) {
  const int64_t i = 4 * block;
  if (aligned && i + 4 <= n) {
    *reinterpret_cast<float4*>(out + i) = make_float4(v[0], v[1], v[2], v[3]);
    return;
  }
  for (int j = 0; j < 4 && i + j < n; ++j) out[i + j] = v[j];
}

__device__ __forceinline__ void load4(const float* in, int64_t block, int64_t n, bool aligned, float (&v)[4]) {
  const int64_t i = 4 * block;
  if (aligned && i + 4 <= n) {
    const float4 q = *reinterpret_cast<const float4*>(in + i);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
    return;
  }
  for (int j = 0; j < 4 && i + j < n; ++j) v[j] = in[i + j];
}

__global__ void uniform_kernel(float* __restrict__ out, int64_t n, uint64_t seed, uint64_t offset, float lo,
                               float range, bool aligned) {
  const int64_t blocks = (n + 3) / 4, stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t b = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < blocks; b += stride) {
    const Philox4 r = philox4x32_10(offset + static_cast<uint64_t>(b), seed);
    float v[4];
    for (int j = 0; j < 4; ++j) v[j] = lo + range * philox_unit(r.v[j]);
    store4(out, b, n, aligned, v);
  }
}

// Box-Muller on the word pairs (0, 1) and (2, 3), written as the CPU writes it.
__global__ void normal_kernel(float* __restrict__ out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                              float std, bool aligned) {
  constexpr float kTwoPi = 6.283185307179586f;
  const int64_t blocks = (n + 3) / 4, stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t b = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < blocks; b += stride) {
    const Philox4 r = philox4x32_10(offset + static_cast<uint64_t>(b), seed);
    float v[4];
    for (int pair = 0; pair < 2; ++pair) {
      const float radius = sqrtf(-2.0f * logf(philox_unit_open0(r.v[2 * pair])));
      const float angle = kTwoPi * philox_unit(r.v[2 * pair + 1]);
      v[2 * pair] = mean + std * radius * cosf(angle);
      v[2 * pair + 1] = mean + std * radius * sinf(angle);
    }
    store4(out, b, n, aligned, v);
  }
}

__global__ void dropout_kernel(float* __restrict__ out, float* __restrict__ mask, const float* __restrict__ in,
                               int64_t n, float p, float keep_scale, uint64_t seed, uint64_t offset, bool aligned) {
  const int64_t blocks = (n + 3) / 4, stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t b = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; b < blocks; b += stride) {
    const Philox4 r = philox4x32_10(offset + static_cast<uint64_t>(b), seed);
    float x[4] = {}, m[4], y[4];
    load4(in, b, n, aligned, x);
    for (int j = 0; j < 4; ++j) {
      m[j] = philox_unit(r.v[j]) >= p ? keep_scale : 0.0f;
      y[j] = x[j] * m[j];
    }
    store4(mask, b, n, aligned, m);
    store4(out, b, n, aligned, y);
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  if (n <= 0) return;
  CFGAN_LAUNCH(uniform_kernel, grid_stride_blocks((n + 3) / 4, kThreads), kThreads, 0, nullptr, out, n, seed,
               offset, lo, hi - lo, aligned16(out));
}

void normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  if (n <= 0) return;
  CFGAN_LAUNCH(normal_kernel, grid_stride_blocks((n + 3) / 4, kThreads), kThreads, 0, nullptr, out, n, seed,
               offset, mean, std, aligned16(out));
}

void dropout_forward(float* out, float* mask, const float* in, int64_t n, float p, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  CFGAN_LAUNCH(dropout_kernel, grid_stride_blocks((n + 3) / 4, kThreads), kThreads, 0, nullptr, out, mask, in, n,
               p, keep_scale, seed, offset, aligned16(out) && aligned16(mask) && aligned16(in));
}

}  // namespace cfgan::CFGAN_CUDA_NS
