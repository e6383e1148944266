// Batch norm over (N, C, HW), one channel per task. Statistics are two-pass in double:
// DCGAN's 1-D batch norm sees only 64 values per feature, where a one-pass float
// variance would be visibly off. The sums over a row run as `omp simd` reductions (double
// lanes, added up at the end): a single double accumulator is a chain of dependent adds
// that kept these loops at one element per add latency.
#include <cmath>

#include "kernels/cpu/cpu.h"

namespace cfgan::cpu {

void batch_norm_forward_train(float* out, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, const float* in, const float* gamma, const float* beta, int64_t n,
                              int64_t c, int64_t hw, float momentum, float eps) {
  const int64_t count = n * hw;
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < hw; ++i) sum += x[i];
    }
    const double mean = sum / count;
    double sq = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
#pragma omp simd reduction(+ : sq)
      for (int64_t i = 0; i < hw; ++i) sq += (x[i] - mean) * (x[i] - mean);
    }
    const double var = sq / count;
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    const float scale = (gamma ? gamma[ch] : 1.0f) * invstd;
    const float shift = (beta ? beta[ch] : 0.0f) - static_cast<float>(mean) * scale;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
      float* y = out + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) y[i] = x[i] * scale + shift;
    }
    save_mean[ch] = static_cast<float>(mean);
    save_invstd[ch] = invstd;
    if (running_mean) {
      const double unbiased = count > 1 ? sq / (count - 1) : var;
      running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
      running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    }
  }
}

void batch_norm_forward_eval(float* out, const float* in, const float* running_mean, const float* running_var,
                             const float* gamma, const float* beta, int64_t n, int64_t c, int64_t hw, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    const float invstd = 1.0f / std::sqrt(running_var[ch] + eps);
    const float scale = (gamma ? gamma[ch] : 1.0f) * invstd;
    const float shift = (beta ? beta[ch] : 0.0f) - running_mean[ch] * scale;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
      float* y = out + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) y[i] = x[i] * scale + shift;
    }
  }
}

// With xhat = (x - mean) * invstd and M = N*HW:
//   dbeta = sum dout, dgamma = sum dout * xhat,
//   dx = gamma * invstd / M * (M * dout - dbeta - xhat * dgamma).
void batch_norm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                         const float* save_mean, const float* save_invstd, const float* gamma, int64_t n, int64_t c,
                         int64_t hw) {
  const int64_t count = n * hw;
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    const float mean = save_mean[ch], invstd = save_invstd[ch];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
      const float* dy = dout + (b * c + ch) * hw;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
      for (int64_t i = 0; i < hw; ++i) {
        sum_dy += dy[i];
        sum_dy_xhat += dy[i] * (x[i] - mean) * invstd;
      }
    }
    if (dbeta) dbeta[ch] += static_cast<float>(sum_dy);
    if (dgamma) dgamma[ch] += static_cast<float>(sum_dy_xhat);
    if (!din) continue;
    const float k = (gamma ? gamma[ch] : 1.0f) * invstd;
    const float mean_dy = static_cast<float>(sum_dy / count);
    const float mean_dy_xhat = static_cast<float>(sum_dy_xhat / count);
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
      const float* dy = dout + (b * c + ch) * hw;
      float* dx = din + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) {
        const float xhat = (x[i] - mean) * invstd;
        dx[i] += k * (dy[i] - mean_dy - xhat * mean_dy_xhat);
      }
    }
  }
}

void batch_norm_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                              const float* running_mean, const float* running_var, const float* gamma, int64_t n,
                              int64_t c, int64_t hw, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    const float mean = running_mean[ch];
    const float invstd = 1.0f / std::sqrt(running_var[ch] + eps);
    const float k = (gamma ? gamma[ch] : 1.0f) * invstd;
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
      const float* dy = dout + (b * c + ch) * hw;
      float* dx = din ? din + (b * c + ch) * hw : nullptr;
      for (int64_t i = 0; i < hw; ++i) {
        sum_dy += dy[i];
        sum_dy_xhat += dy[i] * (x[i] - mean) * invstd;
        if (dx) dx[i] += k * dy[i];
      }
    }
    if (dbeta) dbeta[ch] += static_cast<float>(sum_dy);
    if (dgamma) dgamma[ch] += static_cast<float>(sum_dy_xhat);
  }
}

}  // namespace cfgan::cpu
