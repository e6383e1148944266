// The one header every kernels/cuda/*.cu includes first. The same source is built
// twice (docs: kernels/emu/README.md):
// - by nvcc for the GPU: CUDA's own runtime, code in namespace cfgan::cuda;
// - by the host compiler with CFGAN_CUDA_EMU defined: the emulator in kernels/emu/,
//   code in namespace cfgan::cuda_emu, so both builds link into one program.
// Write kernels inside `namespace cfgan::CFGAN_CUDA_NS { ... }`.
#pragma once

#if defined(CFGAN_CUDA_EMU)

#include "kernels/emu/emu.h"

#define CFGAN_CUDA_NS cuda_emu

namespace cfgan::cuda_emu {
using namespace ::cfgan::emu;
}

// Dynamic shared memory (the launch's shared_bytes) as a `type*` named `name`.
// Write it inside the kernel body; several declarations alias the same bytes.
#define CFGAN_DYNAMIC_SHARED(type, name) type* const name = ::cfgan::emu::dynamic_shared<type>()

#else

#include <cuda_runtime.h>

#define CFGAN_CUDA_NS cuda

// One untyped extern array: nvcc rejects two kernels of a file declaring the same
// extern __shared__ name with different element types, so each kernel takes a typed
// pointer to this one instead.
#define CFGAN_DYNAMIC_SHARED(type, name)                              \
  extern __shared__ __align__(128) unsigned char cfgan_dynamic_shared_[]; \
  type* const name = reinterpret_cast<type*>(cfgan_dynamic_shared_)

#endif
