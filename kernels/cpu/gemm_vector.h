// Products whose C is a single row or column (m == 1 or n == 1). The blocked GEMM's
// register tile would fill one lane in sixteen there and nothing is reused, so these
// run as memory-bound dot products or axpys instead.
#pragma once

#include "kernels/kernels.h"

namespace cfgan::cpu::gemm_detail {

// Requires g.m == 1 or g.n == 1, g.k > 0; uses up to `threads` OpenMP threads.
void gemm_vector(const GemmArgs& g, int threads);

}  // namespace cfgan::cpu::gemm_detail
