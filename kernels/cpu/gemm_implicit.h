// A GEMM whose op(A) or op(B) is never stored whole: a caller-supplied packer writes each
// micro-panel of it just before the micro-kernel reads it. The convolutions use it to
// pack straight from the image (implicit GEMM), so the column matrix of im2col is
// neither written to memory nor read back, and straight from tensors whose layout is
// not a matrix's (dout's (N, K, P*Q) read as (K, N*P*Q)), so that nothing is copied
// into one first.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cfgan::cpu {

// Writes lines [line, line + width) (rows of op(A), or columns of op(B)) of product
// `product` over k in [k0, k0 + kc) as dst[k * padded_width + l], with lines
// [width, padded_width) zero (A panels have padded_width == width). Called from several
// threads at once.
struct PanelPacker {
  void (*pack)(const void* context, int64_t product, int64_t k0, int64_t kc, int64_t line, int64_t width,
               int64_t padded_width, float* dst);
  const void* context;
};

// gemm(g) with op(A) from `a` and op(B) from `b` where those are given; an operand taken
// from a packer ignores its pointer, leading dimension, transposition and batch stride in g.
void gemm_implicit(const GemmArgs& g, const PanelPacker* a, const PanelPacker* b);

}  // namespace cfgan::cpu
