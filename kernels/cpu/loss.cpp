#include <cmath>

#include "kernels/cpu/cpu.h"

namespace cfgan::cpu {

void bce_with_logits_forward(float* out, const float* logits, const float* target, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = logits[i];
    out[i] = std::fmax(x, 0.0f) - x * target[i] + std::log1p(std::exp(-std::fabs(x)));
  }
}

void bce_with_logits_backward(float* dlogits, float* dtarget, const float* dout, const float* logits,
                              const float* target, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float sig = 1.0f / (1.0f + std::exp(-logits[i]));
    if (dlogits) dlogits[i] += dout[i] * (sig - target[i]);
    if (dtarget) dtarget[i] -= dout[i] * logits[i];
  }
}

void cross_entropy_forward(float* loss, const float* logits, const int32_t* labels, int64_t rows, int64_t classes) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = logits + row * classes;
    float max = x[0];
    for (int64_t j = 1; j < classes; ++j) max = std::fmax(max, x[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(x[j] - max);
    loss[row] = static_cast<float>(std::log(sum)) + max - x[labels[row]];
  }
}

void cross_entropy_backward(float* dlogits, const float* dloss, const float* logits, const int32_t* labels,
                            int64_t rows, int64_t classes) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* x = logits + row * classes;
    float* dx = dlogits + row * classes;
    float max = x[0];
    for (int64_t j = 1; j < classes; ++j) max = std::fmax(max, x[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(x[j] - max);
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < classes; ++j) {
      const float p = std::exp(x[j] - max) * inv;
      dx[j] += dloss[row] * (p - (j == labels[row] ? 1.0f : 0.0f));
    }
  }
}

}  // namespace cfgan::cpu
