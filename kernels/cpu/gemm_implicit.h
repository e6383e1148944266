// A GEMM whose op(B) is never stored whole: a caller-supplied packer writes each
// micro-panel of it just before the micro-kernel reads it. The convolutions use it to
// pack straight from the image (implicit GEMM), so the column matrix of im2col is
// neither written to memory nor read back.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cfgan::cpu {

// Writes columns [col, col + width) of op(B) of product `product` over k in
// [k0, k0 + kc) as dst[k * padded_width + line], with lines [width, padded_width) zero.
// Called from several threads at once.
struct BPanelPacker {
  void (*pack)(const void* context, int64_t product, int64_t k0, int64_t kc, int64_t col, int64_t width,
               int64_t padded_width, float* dst);
  const void* context;
};

// gemm(g) with op(B) from `b`; g.b, g.ldb, g.trans_b and g.stride_b are not used.
void gemm_implicit_b(const GemmArgs& g, const BPanelPacker& b);

}  // namespace cfgan::cpu
