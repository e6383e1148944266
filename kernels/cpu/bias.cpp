#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {

void bias_add(float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * channels * inner > kParallelElements)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      float* p = out + (o * channels + c) * inner;
      const float b = bias[c];
      for (int64_t i = 0; i < inner; ++i) p[i] += b;
    }
  }
}

// The CPU reduces in place: no workspace.
int64_t bias_backward_workspace_bytes(int64_t, int64_t, int64_t) { return 0; }

// Each row is summed as an `omp simd` reduction (float lanes added at the end: a single
// float accumulator is a chain of dependent adds, one add latency per element), the rows
// in double.
void bias_backward(float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner, void*) {
#pragma omp parallel for schedule(static) if (outer * channels * inner > kParallelElements)
  for (int64_t c = 0; c < channels; ++c) {
    double acc = 0.0;
    for (int64_t o = 0; o < outer; ++o) {
      const float* p = dout + (o * channels + c) * inner;
      float partial = 0.0f;
#pragma omp simd reduction(+ : partial)
      for (int64_t i = 0; i < inner; ++i) partial += p[i];
      acc += partial;
    }
    dbias[c] += static_cast<float>(acc);
  }
}

}  // namespace cfgan::cpu
