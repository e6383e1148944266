// Index arithmetic for kernels that walk a contiguous output and read (or write)
// operands through strides: element i of the output shape -> one offset per operand.
//
// Integer division is the cost. A 64-bit divide is a ~70-instruction subroutine on
// the GPU, a 32-bit one ~20; FastDivmod divides by a divisor fixed at launch with a
// multiply-high, an add and a shift (Granlund & Montgomery; PyTorch's IntDivider).
// Kernels are instantiated twice: Index = uint32_t with FastDivmod when every index
// and offset stays below 2^31 (all tensors this engine meets), Index = int64_t with
// plain division beyond.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/collapse_dims.h"
#include "kernels/cuda/runtime.cuh"
#include "kernels/kernels.h"

namespace cfgan::CFGAN_CUDA_NS {

// n / d and n % d for 0 <= n < 2^31 and 1 <= d < 2^31.
struct FastDivmod {
  uint32_t divisor = 1, multiplier = 1, shift = 0;

  FastDivmod() = default;
  explicit FastDivmod(uint32_t d) : divisor(d) {
    while ((uint64_t{1} << shift) < d) ++shift;
    multiplier = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }
  // The product's high word, then (hi + n) >> shift; hi + n < 2^32 because n < 2^31.
  __device__ __forceinline__ uint32_t div(uint32_t n) const {
    const uint32_t hi = static_cast<uint32_t>((uint64_t{n} * multiplier) >> 32);
    return (hi + n) >> shift;
  }
};

// The int64_t counterpart: plain division, for tensors past 2^31 elements.
struct PlainDivmod {
  int64_t divisor = 1;

  PlainDivmod() = default;
  explicit PlainDivmod(int64_t d) : divisor(d) {}
  __device__ __forceinline__ int64_t div(int64_t n) const { return n / divisor; }
};

template <typename Index>
using Divmod = std::conditional_t<std::is_same_v<Index, uint32_t>, FastDivmod, PlainDivmod>;

// Largest value an Index = uint32_t kernel may see (FastDivmod's domain).
constexpr int64_t kMaxIndex32 = (int64_t{1} << 31) - 1;

// Offsets of `kOperands` strided operands for element i of a contiguous `shape`:
// offset_k = sum_d i_d * stride[k][d].
template <typename Index, int kOperands>
struct StridedOffsets {
  int ndim = 0;
  Divmod<Index> shape[kMaxDims];
  Index stride[kOperands][kMaxDims] = {};

  __device__ __forceinline__ void at(Index i, Index (&offset)[kOperands]) const {
    for (int k = 0; k < kOperands; ++k) offset[k] = 0;
    // Innermost dim first; the outermost coordinate is what is left, no division.
#pragma unroll
    for (int d = kMaxDims - 1; d > 0; --d) {
      if (d >= ndim) continue;
      const Index q = shape[d].div(i);
      const Index coord = i - q * static_cast<Index>(shape[d].divisor);
      for (int k = 0; k < kOperands; ++k) offset[k] += coord * stride[k][d];
      i = q;
    }
    if (ndim > 0) {
      for (int k = 0; k < kOperands; ++k) offset[k] += i * stride[k][0];
    }
  }
};

// Fills StridedOffsets from a collapsed geometry.
template <typename Index, int kOperands>
StridedOffsets<Index, kOperands> make_strided_offsets(int ndim, const int64_t* shape,
                                                      const int64_t (*stride)[kMaxDims]) {
  StridedOffsets<Index, kOperands> s;
  s.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    s.shape[d] = Divmod<Index>(static_cast<Index>(shape[d]));
    for (int k = 0; k < kOperands; ++k) s.stride[k][d] = static_cast<Index>(stride[k][d]);
  }
  return s;
}

// Whether Index = uint32_t kernels may walk this geometry: n elements and, for every
// operand, non-negative strides and offsets within FastDivmod's domain.
template <int kOperands>
bool fits_index32(int ndim, const int64_t* shape, const int64_t (*stride)[kMaxDims], int64_t n) {
  if (n > kMaxIndex32) return false;
  for (int k = 0; k < kOperands; ++k) {
    int64_t last = 0;
    for (int d = 0; d < ndim; ++d) {
      if (stride[k][d] < 0) return false;
      last += (shape[d] - 1) * stride[k][d];
    }
    if (last > kMaxIndex32) return false;
  }
  return true;
}

}  // namespace cfgan::CFGAN_CUDA_NS
