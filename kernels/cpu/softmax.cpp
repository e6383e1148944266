#include <cmath>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {

// Both kernels treat one (o, i) pair as a vector of length r with stride `inner`.
void softmax_forward(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, bool log) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * r * inner > kParallelElements)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* x = in + o * r * inner + i;
      float* y = out + o * r * inner + i;
      float max = x[0];
      for (int64_t j = 1; j < r; ++j) max = std::fmax(max, x[j * inner]);
      double sum = 0.0;
      for (int64_t j = 0; j < r; ++j) sum += std::exp(x[j * inner] - max);
      if (log) {
        const float log_sum = static_cast<float>(std::log(sum));
        for (int64_t j = 0; j < r; ++j) y[j * inner] = x[j * inner] - max - log_sum;
      } else {
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t j = 0; j < r; ++j) y[j * inner] = std::exp(x[j * inner] - max) * inv;
      }
    }
  }
}

// softmax:     din_j += y_j * (dout_j - sum_k dout_k y_k)
// log-softmax: din_j += dout_j - exp(y_j) * sum_k dout_k
void softmax_backward(float* din, const float* dout, const float* out, int64_t outer, int64_t r, int64_t inner,
                      bool log) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * r * inner > kParallelElements)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * r * inner + i;
      const float* g = dout + base;
      const float* y = out + base;
      float* dx = din + base;
      double dot = 0.0;
      for (int64_t j = 0; j < r; ++j) dot += log ? g[j * inner] : g[j * inner] * y[j * inner];
      const float s = static_cast<float>(dot);
      for (int64_t j = 0; j < r; ++j) {
        dx[j * inner] += log ? g[j * inner] - std::exp(y[j * inner]) * s : y[j * inner] * (g[j * inner] - s);
      }
    }
  }
}

}  // namespace cfgan::cpu
