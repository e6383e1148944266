// Grid sizes for the grid-stride kernels of kernels/cuda. Sized for an H200 (132 SMs
// of 2048 threads); on another GPU a grid is merely less well fitted, never wrong,
// since every kernel strides over its work.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/runtime.cuh"

namespace cfgan::CFGAN_CUDA_NS {

// 256-thread blocks that fit on the GPU at once: 132 SMs x 8.
constexpr int64_t kResidentBlocks = 132 * 8;

// Blocks for `items` work items at `items_per_block` each, at most four waves of
// resident blocks (the loop covers the rest) and at least one: callers launch nothing
// when there is no work at all.
inline unsigned grid_stride_blocks(int64_t items, int64_t items_per_block) {
  const int64_t blocks = (items + items_per_block - 1) / items_per_block;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 4 * kResidentBlocks));
}

}  // namespace cfgan::CFGAN_CUDA_NS
