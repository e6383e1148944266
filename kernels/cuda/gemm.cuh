// The GEMM entry points other kernels/cuda files build on (conv.cu). The table's
// `gemm` has no scratch space, so it never splits K; callers that own a workspace
// (the convolutions) pass one, and a product too small to fill the GPU is split
// along K into partial products that a second kernel sums in a fixed order.
#pragma once

#include "kernels/cuda/cuda.h"

namespace cfgan::CFGAN_CUDA_NS {

// Floats of scratch gemm_with_workspace needs for this shape (0 when it does not split
// K). Depends on the sizes only, never on the GPU, so results repeat on every device.
int64_t gemm_workspace_floats(const GemmArgs& args);

// gemm(args), splitting K when that helps and `workspace` holds
// gemm_workspace_floats(args) floats (16-byte aligned); workspace may be null.
void gemm_with_workspace(const GemmArgs& args, float* workspace);

}  // namespace cfgan::CFGAN_CUDA_NS
