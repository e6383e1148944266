// The CUDA backend's kernels, in cfgan::cuda (nvcc) or cfgan::cuda_emu (the emulator,
// kernels/emu/): the kernels of kernels/kernel_list.h (documented there), all running
// on the default stream.
#pragma once

#include "kernels/cuda/runtime.cuh"
#include "kernels/kernels.h"

namespace cfgan::CFGAN_CUDA_NS {

// One function per entry of kernels/kernel_list.h, in the file of its family (conv.cu, ...).
#define CFGAN_KERNEL(ret, fn, params) ret fn params;
#include "kernels/kernel_list.h"
#undef CFGAN_KERNEL

int device_count();  // memory.cu: 0 when there is no GPU (or no driver)

// table.cu: the table of our kernels, and the one the engine uses: ours, or on the
// real backend with CFGAN_KERNELS=vendor cuBLAS / cuDNN for gemm and conv
// (vendor_kernels, declared in kernels/cuda_backends.h).
const Kernels& hand_kernels();
const Kernels& kernels();

}  // namespace cfgan::CFGAN_CUDA_NS
