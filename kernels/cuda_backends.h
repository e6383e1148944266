// The CUDA backends as the engine and the tests see them, without CUDA headers:
// cfgan::cuda is built by nvcc (CFGAN_WITH_CUDA), cfgan::cuda_emu always, from the same
// kernels/cuda sources run through the emulator.
#pragma once

#include "kernels/kernels.h"

namespace cfgan::cuda {
// CFGAN_KERNELS=hand (default) | vendor picks which of the two below kernels() is.
const Kernels& kernels();
const Kernels& hand_kernels();
const Kernels& vendor_kernels();  // cuBLAS / cuDNN for gemm and conv, ours elsewhere
int device_count();  // 0 without a GPU or driver
}  // namespace cfgan::cuda

namespace cfgan::cuda_emu {
const Kernels& kernels();
}  // namespace cfgan::cuda_emu
