#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {

// Reference GEMM: plain loops in i-k-j order so the inner loop streams rows of B and C.
void gemm(const GemmArgs& g) {
  for (int64_t batch = 0; batch < g.batch; ++batch) {
    const float* a = g.a + batch * g.stride_a;
    const float* b = g.b + batch * g.stride_b;
    float* c = g.c + batch * g.stride_c;
#pragma omp parallel for schedule(static) if (g.m * g.n * g.k > kParallelElements)
    for (int64_t i = 0; i < g.m; ++i) {
      float* crow = c + i * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) crow[j] = g.beta == 0.0f ? 0.0f : g.beta * crow[j];
      for (int64_t p = 0; p < g.k; ++p) {
        const float aip = g.alpha * (g.trans_a ? a[p * g.lda + i] : a[i * g.lda + p]);
        if (g.trans_b) {
          for (int64_t j = 0; j < g.n; ++j) crow[j] += aip * b[j * g.ldb + p];
        } else {
          const float* brow = b + p * g.ldb;
          for (int64_t j = 0; j < g.n; ++j) crow[j] += aip * brow[j];
        }
      }
    }
  }
}

}  // namespace cfgan::cpu
