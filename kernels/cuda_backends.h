// The CUDA backends as the engine and the tests see them, without CUDA headers:
// cfgan::cuda is built by nvcc (CFGAN_WITH_CUDA), cfgan::cuda_emu always, from the same
// kernels/cuda sources run through the emulator.
#pragma once

#include "kernels/kernels.h"

namespace cfgan::cuda {
const Kernels& kernels();
int device_count();  // 0 without a GPU or driver
}  // namespace cfgan::cuda

namespace cfgan::cuda_emu {
const Kernels& kernels();
}  // namespace cfgan::cuda_emu
