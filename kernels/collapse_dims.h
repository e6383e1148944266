// Strided geometry made small, for every backend's elementwise kernels: fewer dims mean
// fewer index divisions per element on the GPU and longer contiguous rows on the CPU.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace cfgan {

// Drops size-1 dims and merges neighbours that are contiguous in every operand ((a, b)
// with stride_a == stride_b * extent_b), so that most real layouts become 1 to 3 dims and
// a contiguous copy shows up as ndim <= 1 with stride 1. Returns the new ndim (0 when every
// extent is 1: one element); shape and strides are rewritten in place.
template <int kOperands>
int collapse_dims(int ndim, int64_t* shape, int64_t (*stride)[kMaxDims]) {
  int m = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 1) continue;
    bool merges = m > 0;
    for (int k = 0; k < kOperands && merges; ++k) merges = stride[k][m - 1] == stride[k][d] * shape[d];
    if (merges) {
      shape[m - 1] *= shape[d];
      for (int k = 0; k < kOperands; ++k) stride[k][m - 1] = stride[k][d];
    } else {
      shape[m] = shape[d];
      for (int k = 0; k < kOperands; ++k) stride[k][m] = stride[k][d];
      ++m;
    }
  }
  return m;
}

}  // namespace cfgan
