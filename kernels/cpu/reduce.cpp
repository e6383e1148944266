#include <algorithm>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {

// Sums accumulate in double: reductions here are not hot, and a long float sum
// (a mean over 6272 features, say) would otherwise lose digits the gradient checks see.
// The CPU reduces in place: no workspace.
int64_t reduce_workspace_bytes(int64_t, int64_t, int64_t) { return 0; }

void reduce_sum(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, float scale, void*) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * r > kParallelElements)
    for (int64_t o = 0; o < outer; ++o) {
      const float* row = in + o * r;
      double acc = 0.0;
      for (int64_t j = 0; j < r; ++j) acc += row[j];
      out[o] = static_cast<float>(acc * scale);
    }
    return;
  }
  // Column sums in chunks, so the double accumulators live on the stack.
  constexpr int64_t kChunk = 256;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
#pragma omp parallel for collapse(2) schedule(static) if (outer * r * inner > kParallelElements)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t begin = c * kChunk, width = std::min(kChunk, inner - begin);
      double acc[kChunk] = {};
      for (int64_t j = 0; j < r; ++j) {
        const float* row = in + (o * r + j) * inner + begin;
        for (int64_t i = 0; i < width; ++i) acc[i] += row[i];
      }
      for (int64_t i = 0; i < width; ++i) out[o * inner + begin + i] = static_cast<float>(acc[i] * scale);
    }
  }
}

void reduce_sum_backward(float* din, const float* dout, int64_t outer, int64_t r, int64_t inner, float scale) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * r * inner > kParallelElements)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < r; ++j) {
      float* row = din + (o * r + j) * inner;
      const float* g = dout + o * inner;
      for (int64_t i = 0; i < inner; ++i) row[i] += scale * g[i];
    }
  }
}

void reduce_max(float* out, int32_t* argmax, const float* in, int64_t outer, int64_t r, int64_t inner, void*) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * r * inner > kParallelElements)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = in + o * r * inner + i;
      float best = p[0];
      int32_t best_j = 0;
      for (int64_t j = 1; j < r; ++j) {
        if (p[j * inner] > best) {
          best = p[j * inner];
          best_j = static_cast<int32_t>(j);
        }
      }
      out[o * inner + i] = best;
      argmax[o * inner + i] = best_j;
    }
  }
}

void reduce_max_backward(float* din, const float* dout, const int32_t* argmax, int64_t outer, int64_t r,
                         int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      din[(o * r + argmax[o * inner + i]) * inner + i] += dout[o * inner + i];
    }
  }
}

}  // namespace cfgan::cpu
