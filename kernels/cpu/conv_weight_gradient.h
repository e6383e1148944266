// The convolution weight gradient as dot products over the batch, for FP32 batches of
// whole vectors of images (kernels/cpu/conv_weight_gradient.cpp says how).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cfgan::cpu {

// FP32 products, a batch that is a multiple of 16 (the images a vector holds), sums long
// enough to pay for their final reduction (at least 32 vectors of images times output
// positions), and a CPU with AVX-512.
bool lane_weight_gradient_applies(const ConvGeom& g);

// Floats of workspace it needs.
int64_t lane_weight_gradient_workspace_floats(const ConvGeom& g);

// The conv2d_backward_weight contract of kernels/kernel_list.h.
void lane_weight_gradient(float* dweight, const float* dout, const float* in, const ConvGeom& g, float* workspace,
                          bool accumulate);

}  // namespace cfgan::cpu
