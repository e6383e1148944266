// Batches with sixteen images interleaved pixel by pixel, (N/16, C, H, W, 16): a vector
// holds one pixel of 16 images, so kernels that run over the batch in vectors read whole
// contiguous vectors with no bounds test per lane (the 16 images' pixels sit at the same
// place). The Winograd convolutions and the weight gradient over the batch use them.
#pragma once

#include <cstdint>

namespace cfgan::cpu {

constexpr int64_t kImageLanes = 16;  // images per vector

// dst[j * ld_dst + i] (+)= src[i * ld_src + j] for i < rows, j < cols, 16 x 16 blocks at a
// time (the interleaving below is made of it).
void transpose(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows, int64_t cols,
               bool accumulate);

// (N, C, HW) -> (N/16, C, HW, 16); n is a multiple of 16.
void interleave_images(float* blocks, const float* images, int64_t n, int64_t c, int64_t hw);

// (N/16, C, HW, 16) -> (N, C, HW), added to `images` when `accumulate`.
void deinterleave_images(float* images, const float* blocks, int64_t n, int64_t c, int64_t hw, bool accumulate);

// (N, C, H, W) -> (N/16, C, hp, wp, 16) with image pixel (y, x) at (y + pad_h, x + pad_w)
// and zeros around it; rows and columns past hp and wp are left out.
void interleave_padded_images(float* blocks, const float* images, int64_t n, int64_t c, int64_t h, int64_t w,
                              int64_t pad_h, int64_t pad_w, int64_t hp, int64_t wp);

}  // namespace cfgan::cpu
