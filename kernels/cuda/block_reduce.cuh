// Warp and block reductions, and the reducers they combine with: what is accumulated
// (R::Acc), from what (R::load(x, j): element x at position j of the reduced axis) and
// how (R::combine, R::shuffle_down). Blocks are whole warps (full-mask shuffles).
// Used by reduction.cuh, softmax.cu and loss.cu.
#pragma once

#include <climits>
#include <cmath>
#include <cstdint>

#include "kernels/cuda/runtime.cuh"

namespace cfgan::CFGAN_CUDA_NS {

constexpr unsigned kFullMask = 0xffffffffu;

struct SumReducer {
  using Acc = double;
  __device__ static Acc identity() { return 0.0; }
  __device__ static Acc load(float x, int64_t) { return x; }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
  __device__ static Acc shuffle_down(Acc v, unsigned offset) { return __shfl_down_sync(kFullMask, v, offset); }
  __device__ static Acc load_volatile(const Acc* p) { return *reinterpret_cast<const volatile Acc*>(p); }
};

// Plain maximum as std::fmax takes it: a NaN loses to any number.
struct MaxValueReducer {
  using Acc = float;
  __device__ static Acc identity() { return -INFINITY; }
  __device__ static Acc load(float x, int64_t) { return x; }
  __device__ static Acc combine(Acc a, Acc b) { return fmaxf(a, b); }
  __device__ static Acc shuffle_down(Acc v, unsigned offset) { return __shfl_down_sync(kFullMask, v, offset); }
};

struct ArgMax {
  float value;
  int32_t index;
};

// The CPU's sequential scan keeps the first maximum (`x > best`), so ties go to the
// lower index; a NaN at index 0 is the result (nothing compares greater), a NaN
// elsewhere is never taken. load() drops the latter, combine() lets the former win.
struct MaxReducer {
  using Acc = ArgMax;
  __device__ static Acc identity() { return {-INFINITY, INT32_MAX}; }
  __device__ static Acc load(float x, int64_t j) {
    if (x != x && j != 0) return identity();
    return {x, static_cast<int32_t>(j)};
  }
  __device__ static Acc combine(Acc a, Acc b) {
    if (a.value != a.value) return a;
    if (b.value != b.value) return b;
    return b.value > a.value || (b.value == a.value && b.index < a.index) ? b : a;
  }
  __device__ static Acc shuffle_down(Acc v, unsigned offset) {
    return {__shfl_down_sync(kFullMask, v.value, offset), __shfl_down_sync(kFullMask, v.index, offset)};
  }
  __device__ static Acc load_volatile(const Acc* p) {
    const volatile Acc* v = p;
    return {v->value, v->index};
  }
};

// Lane 0 gets the combine of all 32 lanes.
template <typename R>
__device__ __forceinline__ typename R::Acc warp_reduce(typename R::Acc v) {
  for (unsigned offset = 16; offset > 0; offset /= 2) v = R::combine(v, R::shuffle_down(v, offset));
  return v;
}

// Butterfly reductions: every lane ends with the same bits, since each step combines
// the same two values in either order (both ops are commutative).
__device__ __forceinline__ float warp_all_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

__device__ __forceinline__ double warp_all_sum(double v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// Every thread gets the combine over the block. `shared` holds one Acc per warp and
// may be reused once this returns.
template <typename R>
__device__ __forceinline__ typename R::Acc block_reduce(typename R::Acc v, typename R::Acc* shared) {
  const unsigned tid = threadIdx.y * blockDim.x + threadIdx.x;
  const unsigned warps = blockDim.x * blockDim.y / 32;
  v = warp_reduce<R>(v);
  if (tid % 32 == 0) shared[tid / 32] = v;
  __syncthreads();
  v = shared[0];
  for (unsigned w = 1; w < warps; ++w) v = R::combine(v, shared[w]);
  __syncthreads();
  return v;
}

}  // namespace cfgan::CFGAN_CUDA_NS
