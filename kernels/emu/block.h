// What a kernel sees of its block: the built-in index variables, __syncthreads()
// and dynamic shared memory.
//
// The index variables are thread_local: every OS thread runs one block at a time,
// and the scheduler (scheduler.cpp) rewrites threadIdx whenever it switches to
// another CUDA thread's fiber. constinit keeps every access a single %fs-relative
// load, with no TLS init wrapper call.
//
// Static __shared__ variables are `static thread_local` (see emu.h): the fibers of a
// block share their OS thread's copy, blocks running at the same time on other OS
// threads have their own. Like real shared memory they start each block with
// whatever the previous block on that OS thread left there.
#pragma once

#include <source_location>

#include "kernels/emu/types.h"

namespace cfgan::emu {

inline constinit thread_local uint3 threadIdx{0, 0, 0};
inline constinit thread_local uint3 blockIdx{0, 0, 0};
inline constinit thread_local dim3 blockDim{1, 1, 1};
inline constinit thread_local dim3 gridDim{1, 1, 1};
constexpr int warpSize = 32;

namespace detail {
// Set by the scheduler for the block it runs; filled with 0xFF bytes (NaN floats)
// before every block so reading shared memory nobody wrote shows up in results.
inline constinit thread_local unsigned char* dynamic_shared_memory = nullptr;

void sync_threads(const std::source_location& where);
}  // namespace detail

// The barrier really waits: the calling fiber is suspended until every thread of the
// block reached the same __syncthreads. Threads reaching different ones, or exiting
// while others wait, make the launch throw (divergent barrier).
inline void __syncthreads(std::source_location where = std::source_location::current()) {
  detail::sync_threads(where);
}

// The launch's dynamic shared memory (shared_bytes), 128-byte aligned. Kernels use
// it through CFGAN_DYNAMIC_SHARED (kernels/cuda/runtime.cuh).
template <typename T>
T* dynamic_shared() {
  return reinterpret_cast<T*>(detail::dynamic_shared_memory);
}

}  // namespace cfgan::emu
