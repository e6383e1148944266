#include <cstring>

#include "kernels/cpu/cpu.h"

namespace cfgan::cpu {

void index_select_forward(float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer,
                          int64_t dim, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n_idx; ++j) {
      std::memcpy(out + (o * n_idx + j) * inner, in + (o * dim + idx[j]) * inner, sizeof(float) * inner);
    }
  }
}

// Sequential on purpose: repeated indices add into the same row.
void index_select_backward(float* din, const float* dout, const int32_t* idx, int64_t n_idx, int64_t outer,
                           int64_t dim, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n_idx; ++j) {
      float* dst = din + (o * dim + idx[j]) * inner;
      const float* src = dout + (o * n_idx + j) * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
    }
  }
}

}  // namespace cfgan::cpu
