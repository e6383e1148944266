// Reductions along the middle axis of (outer, r, inner), shared by reduce.cu (sum,
// max) and bias.cu (the bias gradient of a linear layer and its split-combine).
//
// A reducer R (block_reduce.cuh) says what is accumulated and how; a store functor
// writes one output q = o * inner + i. Which kernel runs depends on the layout:
// - short rows (r <= 32): a thread per output, r loads each. The loads of a warp are
//   coalesced when inner >= 32; for inner == 1 a thread's loads are contiguous.
// - inner == 1 and r <= 1024: a warp per row, lanes stride along it, shuffles combine.
// - otherwise, tiles: a block of (w, 256 / w) threads covers w adjacent outputs, w the
//   power of two >= inner up to 32, so a warp reads 32 contiguous floats whenever the
//   columns allow; its threads stride along r, then shuffles and shared memory combine
//   the rows. inner == 1 makes this a block per row. When the tiles are too few to fill
//   the GPU (a full sum, a bias gradient over a big batch), r is split over blocks
//   (gridDim.y): each block leaves its partial in the caller's workspace and the last
//   one to arrive combines all partials in split order.
//
// Every combine happens in a fixed order (no atomics on values): results repeat bit for
// bit from run to run. Sums accumulate in double, like the CPU's, so long sums match it
// to the last bit or nearly; on an H100/H200 the FP64 adds cost nothing next to the
// memory traffic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {

// Internal linkage throughout: each source file including this has its own copy.
namespace {

// ---- splitting r over blocks ----

namespace reduction_detail {

constexpr int64_t kMaxSplitTiles = 2048;
constexpr int64_t kMaxSplitPartials = int64_t{1} << 15;
static_assert(sizeof(ArgMax) == sizeof(double), "one partial slot holds either accumulator");

// Where split blocks leave their partials (tiles * splits * columns accumulators) and count,
// per tile, how many of its blocks have finished. Carved from the kernel's workspace; the
// counters start at zero (the launcher clears them) and the last block of a tile resets its own.
struct SplitScratch {
  void* partials = nullptr;
  unsigned* arrivals = nullptr;
};

// Bytes of workspace `tiles` tiles of `columns` outputs split `splits` ways need (0 unsplit).
inline int64_t split_scratch_bytes(int64_t tiles, int64_t columns, int64_t splits) {
  if (splits <= 1) return 0;
  return tiles * splits * columns * int64_t{sizeof(double)} + tiles * int64_t{sizeof(unsigned)};
}

inline SplitScratch carve_split_scratch(void* workspace, int64_t tiles, int64_t columns, int64_t splits) {
  if (splits <= 1) return {};
  auto* base = static_cast<char*>(workspace);
  const int64_t partial_bytes = tiles * splits * columns * int64_t{sizeof(double)};
  SplitScratch s{base, reinterpret_cast<unsigned*>(base + partial_bytes)};
  if (cudaMemsetAsync(s.arrivals, 0, static_cast<size_t>(tiles) * sizeof(unsigned), nullptr) != cudaSuccess)
    throw std::runtime_error("cudaMemsetAsync of the reduction counters failed");
  return s;
}

}  // namespace reduction_detail

// A tile has `columns` outputs; thread tid < valid holds `total` for column tid, and
// every thread of the block calls this. Without splits (gridDim.y == 1) the total is
// final; with them, the block leaves it in the partials and the last block of the
// tile to arrive combines all of them in split order. `store(col, acc)` stores column
// col; `is_last` is shared scratch for one bool.
template <typename R, typename Store>
__device__ __forceinline__ void finish_tile(int64_t tile, unsigned columns, unsigned valid, typename R::Acc total,
                                            const Store& store, bool* is_last, reduction_detail::SplitScratch scratch) {
  using namespace reduction_detail;
  const unsigned splits = gridDim.y;
  const unsigned tid = threadIdx.y * blockDim.x + threadIdx.x;
  if (splits == 1) {
    if (tid < valid) store(tid, total);
    return;
  }
  typename R::Acc* partials = static_cast<typename R::Acc*>(scratch.partials) + tile * splits * columns;
  if (tid < valid) partials[blockIdx.y * columns + tid] = total;
  __threadfence();  // the partial is visible device-wide before the arrival is counted
  __syncthreads();
  if (tid == 0) *is_last = atomicAdd(&scratch.arrivals[tile], 1u) == splits - 1;
  __syncthreads();
  if (!*is_last) return;
  if (tid < valid) {
    typename R::Acc acc = R::load_volatile(partials + tid);
    for (unsigned s = 1; s < splits; ++s) acc = R::combine(acc, R::load_volatile(partials + s * columns + tid));
    store(tid, acc);
  }
  if (tid == 0) scratch.arrivals[tile] = 0;
}

// ---- the three (outer, r, inner) kernels; `store(q, acc)` writes output q ----

template <typename R, typename Store>
__global__ void reduce_short_kernel(const float* __restrict__ in, int64_t outer, int64_t r, int64_t inner,
                                    Store store) {
  const int64_t outputs = outer * inner, stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; q < outputs; q += stride) {
    const int64_t o = q / inner;
    const float* p = in + o * r * inner + (q - o * inner);
    typename R::Acc acc = R::identity();
    for (int64_t j = 0; j < r; ++j) acc = R::combine(acc, R::load(__ldg(p + j * inner), j));
    store(q, acc);
  }
}

template <typename R, typename Store>
__global__ void reduce_rows_warp_kernel(const float* __restrict__ in, int64_t rows, int64_t r, Store store) {
  const unsigned lane = threadIdx.x % 32;
  const int64_t warps = int64_t{gridDim.x} * blockDim.x / 32;
  for (int64_t row = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32; row < rows; row += warps) {
    const float* p = in + row * r;
    typename R::Acc acc = R::identity();
    for (int64_t j = lane; j < r; j += 32) acc = R::combine(acc, R::load(__ldg(p + j), j));
    acc = warp_reduce<R>(acc);
    if (lane == 0) store(row, acc);
  }
}

// blockDim (w, 256 / w); blockIdx.x strides over tiles (o, column group), blockIdx.y
// is the split: rows [y * rows_per_split, (y + 1) * rows_per_split) of r.
template <typename R, typename Store>
__global__ void reduce_tile_kernel(const float* __restrict__ in, int64_t outer, int64_t r, int64_t inner,
                                   int64_t col_tiles, int64_t rows_per_split, Store store,
                                   reduction_detail::SplitScratch scratch) {
  __shared__ typename R::Acc warp_partials[8][32];
  __shared__ bool is_last;
  const unsigned w = blockDim.x, h = blockDim.y, tx = threadIdx.x;
  const unsigned tid = threadIdx.y * w + tx, lane = tid % 32, warp = tid / 32, warps = w * h / 32;
  const int64_t j_begin = blockIdx.y * rows_per_split, j_end = min(r, j_begin + rows_per_split);
  for (int64_t tile = blockIdx.x; tile < outer * col_tiles; tile += gridDim.x) {
    const int64_t o = tile / col_tiles, col0 = (tile - o * col_tiles) * w;
    typename R::Acc acc = R::identity();
    if (col0 + tx < inner) {
      const float* p = in + o * r * inner + col0 + tx;
      for (int64_t j = j_begin + threadIdx.y; j < j_end; j += h) {
        acc = R::combine(acc, R::load(__ldg(p + j * inner), j));
      }
    }
    // Lanes l and l + offset (offset >= w) hold the same column: fold the warp's rows.
    for (unsigned offset = 16; offset >= w; offset /= 2) acc = R::combine(acc, R::shuffle_down(acc, offset));
    if (lane < w) warp_partials[warp][tx] = acc;
    __syncthreads();
    if (tid < w) {
      acc = warp_partials[0][tid];
      for (unsigned k = 1; k < warps; ++k) acc = R::combine(acc, warp_partials[k][tid]);
    }
    const int64_t q0 = o * inner + col0;
    const unsigned valid = static_cast<unsigned>(min(int64_t{w}, inner - col0));
    finish_tile<R>(tile, w, valid, acc, [&](unsigned col, typename R::Acc total) { store(q0 + col, total); },
                   &is_last, scratch);
    __syncthreads();  // warp_partials and is_last are rewritten by the next tile
  }
}

// ---- the launcher ----

// Which kernel reduce_middle runs for a shape, and how (see the top of the file).
struct ReducePlan {
  enum class Kind { empty, short_rows, warp_rows, tiles } kind = Kind::empty;
  unsigned w = 1, h = 1;  // the tile kernel's block
  int64_t col_tiles = 0, tiles = 0, splits = 1, rows_per_split = 0;
  int64_t scratch_bytes() const { return reduction_detail::split_scratch_bytes(tiles, w, splits); }
};

inline ReducePlan plan_reduce(int64_t outer, int64_t r, int64_t inner) {
  using namespace reduction_detail;
  constexpr unsigned kThreads = 256;
  ReducePlan p;
  if (outer * inner == 0) return p;
  if (r <= 32) {
    p.kind = ReducePlan::Kind::short_rows;
    return p;
  }
  if (inner == 1 && r <= 1024) {
    p.kind = ReducePlan::Kind::warp_rows;
    return p;
  }
  p.kind = ReducePlan::Kind::tiles;
  while (p.w < 32 && p.w < inner) p.w *= 2;
  p.h = kThreads / p.w;
  p.col_tiles = (inner + p.w - 1) / p.w;
  p.tiles = outer * p.col_tiles;
  // Split r when the tiles leave SMs idle and each split still gives every thread
  // 16 or more rows, as far as kMaxSplitPartials allows.
  if (p.tiles < kResidentBlocks && p.tiles <= kMaxSplitTiles) {
    p.splits = std::min({(2 * kResidentBlocks + p.tiles - 1) / p.tiles, r / (16 * int64_t{p.h}),
                         kMaxSplitPartials / (p.tiles * p.w)});
    p.splits = std::max<int64_t>(p.splits, 1);
  }
  p.rows_per_split = (r + p.splits - 1) / p.splits;
  p.splits = (r + p.rows_per_split - 1) / p.rows_per_split;
  return p;
}

// out (outer, inner) = R over r of in (outer, r, inner), written through store;
// `workspace` holds plan_reduce(outer, r, inner).scratch_bytes() bytes.
template <typename R, typename Store>
void reduce_middle(const float* in, int64_t outer, int64_t r, int64_t inner, const Store& store, void* workspace) {
  using namespace reduction_detail;
  constexpr unsigned kThreads = 256;
  const ReducePlan p = plan_reduce(outer, r, inner);
  switch (p.kind) {
    case ReducePlan::Kind::empty:
      return;
    case ReducePlan::Kind::short_rows:
      CFGAN_LAUNCH((reduce_short_kernel<R, Store>), grid_stride_blocks(outer * inner, kThreads), kThreads, 0, nullptr,
                   in, outer, r, inner, store);
      return;
    case ReducePlan::Kind::warp_rows:
      CFGAN_LAUNCH((reduce_rows_warp_kernel<R, Store>), grid_stride_blocks(outer, kThreads / 32), kThreads, 0,
                   nullptr, in, outer, r, store);
      return;
    case ReducePlan::Kind::tiles: {
      const SplitScratch scratch = carve_split_scratch(workspace, p.tiles, p.w, p.splits);
      const dim3 grid(grid_stride_blocks(p.tiles, 1), static_cast<unsigned>(p.splits));
      CFGAN_LAUNCH((reduce_tile_kernel<R, Store>), grid, dim3(p.w, p.h), 0, nullptr, in, outer, r, inner,
                   p.col_tiles, p.rows_per_split, store, scratch);
      return;
    }
  }
}

}  // namespace
}  // namespace cfgan::CFGAN_CUDA_NS
