// Winograd convolution for 4x4 kernels at stride 2 and padding 1, the layers that carry
// nearly all of a DCGAN's multiply-adds: each pass runs 25/64 of the direct convolution's
// products (kernels/cpu/conv_winograd.cpp says how).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cfgan::cpu {

// 4x4 kernel, stride 2, padding 1, even H and W, FP32 products (the tensor-core
// precisions keep their rounding on the direct path), and the batch and both channel
// counts multiples of 16, the vector width the transforms run over.
bool winograd_applies(const ConvGeom& g);

// Floats of workspace any of the passes needs.
int64_t winograd_workspace_floats(const ConvGeom& g);

// The conv2d_forward / conv2d_backward_input / conv2d_backward_weight contracts of
// kernels/kernel_list.h.
void winograd_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace);
void winograd_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                             float* workspace, bool accumulate);
void winograd_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                              float* workspace, bool accumulate);

}  // namespace cfgan::cpu
