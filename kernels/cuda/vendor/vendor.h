// cuBLAS and cuDNN behind the signatures of our gemm and conv kernels (kernels/cuda/cuda.h):
// the baselines the benches measure against, and what CFGAN_KERNELS=vendor selects
// (table.cu). Built by nvcc only: the emulated backend has no vendor libraries.
// Both run on the default stream, in pure FP32 (no TF32 tensor cores), like ours.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cfgan::cuda::vendor {

// cublas_gemm.cu
void gemm(const GemmArgs& args);

// cudnn_conv.cu: the workspace is what cuDNN asks for its chosen algorithms.
int64_t conv_workspace_floats(const ConvGeom& g);
void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace);
void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                           float* workspace, bool accumulate);
void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                            float* workspace, bool accumulate);

}  // namespace cfgan::cuda::vendor
