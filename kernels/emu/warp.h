// Warp shuffles, votes and __syncwarp.
//
// A warp is 32 consecutive linear thread indices of the block. A warp operation is a
// meeting: each lane named in `mask` deposits its value and its fiber waits until
// every named lane that is still alive has arrived; then each reads what it needs.
// Following the CUDA rules ("all non-exited threads named in mask must execute the
// same intrinsic with the same mask"):
// - lanes that exited, or do not exist in a partial last warp, are not waited for;
//   reading their value gives all-one bits (NaN for float) instead of garbage;
// - a named lane that never arrives (it waits at __syncthreads or at another warp
//   operation), a different intrinsic or an overlapping different mask make the
//   launch throw, naming both call sites;
// - a caller missing from its own mask, or a width that is not a power of two up to
//   32, also throws.
// Source lanes follow the PTX shfl.sync definition, including width segments.
#pragma once

#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "kernels/emu/block.h"

namespace cfgan::emu {

namespace detail {

enum class WarpOp : uint8_t { shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all, syncwarp, mma };

// Meets the other lanes (see above) and returns this lane's result as raw bits: the
// source lane's value for shuffles, the ballot bits for votes. For mma (mma.h), value is
// the address of the lane's MmaLane and arg its MmaShape.
uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int64_t arg, int width,
                         const std::source_location& where);

template <typename T>
T shuffle(WarpOp op, unsigned mask, T var, int64_t arg, int width, const std::source_location& where) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(uint64_t),
                "warp shuffles move values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = warp_collective(op, mask, bits, arg, width, where);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

}  // namespace detail

template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              std::source_location where = std::source_location::current()) {
  return detail::shuffle(detail::WarpOp::shfl_idx, mask, var, src_lane, width, where);
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 std::source_location where = std::source_location::current()) {
  return detail::shuffle(detail::WarpOp::shfl_up, mask, var, delta, width, where);
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   std::source_location where = std::source_location::current()) {
  return detail::shuffle(detail::WarpOp::shfl_down, mask, var, delta, width, where);
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  std::source_location where = std::source_location::current()) {
  return detail::shuffle(detail::WarpOp::shfl_xor, mask, var, static_cast<unsigned>(lane_mask), width, where);
}

inline unsigned __ballot_sync(unsigned mask, int predicate,
                              std::source_location where = std::source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ballot, mask, predicate != 0, 0, 32, where));
}

inline int __any_sync(unsigned mask, int predicate, std::source_location where = std::source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::any, mask, predicate != 0, 0, 32, where));
}

inline int __all_sync(unsigned mask, int predicate, std::source_location where = std::source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::all, mask, predicate != 0, 0, 32, where));
}

inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location where = std::source_location::current()) {
  detail::warp_collective(detail::WarpOp::syncwarp, mask, 0, 0, 32, where);
}

}  // namespace cfgan::emu
