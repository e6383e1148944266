// The CUDA emulator: what a kernels/cuda/*.cu source needs to compile with the host
// C++ compiler and run on the CPU with CUDA's semantics. Included through
// kernels/cuda/runtime.cuh when CFGAN_CUDA_EMU is defined; see README.md.
//
// Everything lives in cfgan::emu (runtime.cuh makes it visible in cfgan::cuda_emu),
// so the emulated and the real backend can be linked into one program.
#pragma once

// Standard headers first: the keyword macros below must not reach them.
#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/emu/atomics.h"
#include "kernels/emu/block.h"
#include "kernels/emu/intrinsics.h"
#include "kernels/emu/launch.h"
#include "kernels/emu/mma.h"
#include "kernels/emu/runtime_api.h"
#include "kernels/emu/types.h"
#include "kernels/emu/warp.h"

// Execution-space and launch annotations mean nothing on the host. __restrict__ is
// already a GCC / Clang keyword. (__noinline__ is not defined: libstdc++ spells
// __attribute__((__noinline__)) and a macro would break it.)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// One copy per OS thread = per running block (see block.h).
#define __shared__ static thread_local
