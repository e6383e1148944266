// index_select over (outer, dim, inner), matching kernels/cpu/index.cpp.
//
// Forward is a gather: output element (o, j, i) reads in[o, idx[j], i]; float4 when
// inner % 4 == 0 and both arrays are 16-byte aligned (a float4 then stays in a row).
//
// Backward scatters dout rows into din rows idx[j], and an index may repeat (labels
// of a batch into an embedding). Up to kOwnedMaxIndices indices it is deterministic
// and adds in the CPU's order, so results are bit-identical to it: the first j holding
// a value d "owns" din row d, and its blocks add dout rows j' = j, ... with idx[j'] ==
// d in increasing j', each din element always by the same thread. Warps find the owner
// and the matches with __any_sync / __ballot_sync over 32 indices at a time; the scan
// costs O(n_idx^2 / 32) per block, hence the limit. Beyond it each dout element is
// atomicAdd-ed into place: repeated indices then sum in an unspecified order.
#include <algorithm>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/offsets.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;
constexpr int64_t kOwnedMaxIndices = 4096;
constexpr int64_t kOwnedElementsPerBlock = 8 * kThreads;  // of the (outer, inner) plane, per match

// ---- forward ----

// Element e of out (outer, n_idx, inner) at row e / inner = o * n_idx + j, column
// e % inner. T is float, or float4 with every size counted in float4s (inner / 4 per row).
template <typename T, typename Index>
__global__ void index_select_forward_kernel(T* __restrict__ out, const T* __restrict__ in,
                                            const int32_t* __restrict__ idx, Divmod<Index> inner, Divmod<Index> n_idx,
                                            Index dim, Index n) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  const Index width = static_cast<Index>(inner.divisor), count = static_cast<Index>(n_idx.divisor);
  for (Index e = Index{blockIdx.x} * blockDim.x + threadIdx.x; e < n; e += stride) {
    const Index row = inner.div(e), o = n_idx.div(row);
    const Index src_row = o * dim + static_cast<Index>(__ldg(idx + (row - o * count)));
    out[e] = __ldg(in + src_row * width + (e - row * width));
  }
}

template <typename Index>
void launch_index_select_forward(float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer,
                                 int64_t dim, int64_t inner) {
  const int64_t n = outer * n_idx * inner;
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  const auto index = [](int64_t v) { return static_cast<Index>(v); };
  if (inner % 4 == 0 && aligned(out) && aligned(in)) {
    CFGAN_LAUNCH((index_select_forward_kernel<float4, Index>), grid_stride_blocks(n / 4, kThreads), kThreads, 0,
                 nullptr, reinterpret_cast<float4*>(out), reinterpret_cast<const float4*>(in), idx,
                 Divmod<Index>(index(inner / 4)), Divmod<Index>(index(n_idx)), index(dim), index(n / 4));
  } else {
    CFGAN_LAUNCH((index_select_forward_kernel<float, Index>), grid_stride_blocks(n, kThreads), kThreads, 0, nullptr,
                 out, in, idx, Divmod<Index>(index(inner)), Divmod<Index>(index(n_idx)), index(dim), index(n));
  }
}

// ---- backward, deterministic ----

// Position of the lowest set bit of m != 0 (__ffs(m) - 1, in plain arithmetic).
__device__ __forceinline__ unsigned lowest_set_bit(unsigned m) {
  unsigned b = 0;
  if ((m & 0xffffu) == 0) m >>= 16, b += 16;
  if ((m & 0xffu) == 0) m >>= 8, b += 8;
  if ((m & 0xfu) == 0) m >>= 4, b += 4;
  if ((m & 0x3u) == 0) m >>= 2, b += 2;
  if ((m & 0x1u) == 0) b += 1;
  return b;
}

// blockIdx.x strides over j; blockIdx.y takes elements [y * chunk, (y + 1) * chunk) of
// the (outer, inner) plane. Every warp works out the same owner verdict and match
// list on its own (no barriers); element e of the plane belongs to one thread.
template <typename Index>
__global__ void index_select_backward_owned_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                                   const int32_t* __restrict__ idx, int64_t n_idx, int64_t dim,
                                                   Divmod<Index> inner, Index plane, Index chunk) {
  const unsigned lane = threadIdx.x % 32;
  const Index width = static_cast<Index>(inner.divisor);
  const Index e_begin = blockIdx.y * chunk, e_end = min(plane, e_begin + chunk);
  for (int64_t j = blockIdx.x; j < n_idx; j += gridDim.x) {
    const int32_t d = __ldg(idx + j);
    bool owned = true;
    for (int64_t base = 0; base < j && owned; base += 32) {
      const int64_t k = base + lane;
      owned = !__any_sync(kFullMask, k < j && __ldg(idx + k) == d);
    }
    if (!owned) continue;
    for (int64_t base = j; base < n_idx; base += 32) {
      const int64_t k = base + lane;
      unsigned matches = __ballot_sync(kFullMask, k < n_idx && __ldg(idx + k) == d);
      while (matches != 0) {
        const int64_t source = base + lowest_set_bit(matches);
        matches &= matches - 1;
        for (Index e = e_begin + threadIdx.x; e < e_end; e += blockDim.x) {
          const Index o = inner.div(e), i = e - o * width;
          din[(o * dim + d) * int64_t{width} + i] += __ldg(dout + (o * n_idx + source) * int64_t{width} + i);
        }
      }
    }
  }
}

template <typename Index>
void launch_index_select_backward_owned(float* din, const float* dout, const int32_t* idx, int64_t n_idx,
                                        int64_t outer, int64_t dim, int64_t inner) {
  // Split the plane over blocks only as far as needed to fill the GPU: each block
  // repeats the owner scan.
  const int64_t plane = outer * inner;
  const int64_t most_chunks = std::min<int64_t>((plane + kOwnedElementsPerBlock - 1) / kOwnedElementsPerBlock, 65535);
  const int64_t chunks = std::clamp<int64_t>((4 * kResidentBlocks + n_idx - 1) / n_idx, 1, most_chunks);
  const int64_t chunk = (plane + chunks - 1) / chunks;
  const dim3 grid(grid_stride_blocks(n_idx, 1), static_cast<unsigned>((plane + chunk - 1) / chunk));
  CFGAN_LAUNCH(index_select_backward_owned_kernel<Index>, grid, kThreads, 0, nullptr, din, dout, idx, n_idx, dim,
               Divmod<Index>(static_cast<Index>(inner)), static_cast<Index>(plane), static_cast<Index>(chunk));
}

// ---- backward, atomic (many indices) ----

template <typename Index>
__global__ void index_select_backward_atomic_kernel(float* __restrict__ din, const float* __restrict__ dout,
                                                    const int32_t* __restrict__ idx, Divmod<Index> inner,
                                                    Divmod<Index> n_idx, Index dim, Index n) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  const Index width = static_cast<Index>(inner.divisor), count = static_cast<Index>(n_idx.divisor);
  for (Index e = Index{blockIdx.x} * blockDim.x + threadIdx.x; e < n; e += stride) {
    const Index row = inner.div(e), o = n_idx.div(row);
    const Index dst_row = o * dim + static_cast<Index>(__ldg(idx + (row - o * count)));
    atomicAdd(din + dst_row * width + (e - row * width), __ldg(dout + e));
  }
}

template <typename Index>
void launch_index_select_backward(float* din, const float* dout, const int32_t* idx, int64_t n_idx, int64_t outer,
                                  int64_t dim, int64_t inner) {
  if (n_idx <= kOwnedMaxIndices) {
    launch_index_select_backward_owned<Index>(din, dout, idx, n_idx, outer, dim, inner);
    return;
  }
  const int64_t n = outer * n_idx * inner;
  const auto index = [](int64_t v) { return static_cast<Index>(v); };
  CFGAN_LAUNCH(index_select_backward_atomic_kernel<Index>, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, din,
               dout, idx, Divmod<Index>(index(inner)), Divmod<Index>(index(n_idx)), index(dim), index(n));
}

// Index = uint32_t when every element index of in and out fits FastDivmod's domain.
bool fits_index32(int64_t n_idx, int64_t outer, int64_t dim, int64_t inner) {
  return outer * std::max(n_idx, dim) * inner <= kMaxIndex32;
}

}  // namespace

void index_select_forward(float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer,
                          int64_t dim, int64_t inner) {
  if (outer * n_idx * inner == 0) return;
  if (fits_index32(n_idx, outer, dim, inner)) {
    launch_index_select_forward<uint32_t>(out, in, idx, n_idx, outer, dim, inner);
  } else {
    launch_index_select_forward<int64_t>(out, in, idx, n_idx, outer, dim, inner);
  }
}

void index_select_backward(float* din, const float* dout, const int32_t* idx, int64_t n_idx, int64_t outer,
                           int64_t dim, int64_t inner) {
  if (outer * n_idx * inner == 0) return;
  if (fits_index32(n_idx, outer, dim, inner)) {
    launch_index_select_backward<uint32_t>(din, dout, idx, n_idx, outer, dim, inner);
  } else {
    launch_index_select_backward<int64_t>(din, dout, idx, n_idx, outer, dim, inner);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
