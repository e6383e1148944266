// Batch norm over (N, C, HW). Statistics are two-pass in double: DCGAN's 1-D batch norm
// sees only 64 values per feature, where a one-pass float variance would be visibly off.
// With HW > 1 each task takes one channel and sums its rows as `omp simd` reductions
// (double lanes, added up at the end; one double accumulator is a chain of dependent
// adds). With HW == 1 (BatchNorm1d) a channel's values are C floats apart, so a task
// takes a block of adjacent channels and walks down the batch, summing them side by side.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu.h"

namespace cfgan::cpu {
namespace {

constexpr int64_t kChannelBlock = 64;  // BatchNorm1d channels per task: 2 x 512 B of sums

struct ScaleShift {
  float scale, shift;
};

// Saves a channel's statistics, updates its running ones and returns y = x * scale + shift.
ScaleShift finish_channel(int64_t ch, double sum, double sq, int64_t count, float* save_mean, float* save_invstd,
                          float* running_mean, float* running_var, const float* gamma, const float* beta,
                          float momentum, float eps) {
  const double mean = sum / count, var = sq / count;
  const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float scale = (gamma ? gamma[ch] : 1.0f) * invstd;
  save_mean[ch] = static_cast<float>(mean);
  save_invstd[ch] = invstd;
  if (running_mean) {
    const double unbiased = count > 1 ? sq / (count - 1) : var;
    running_mean[ch] = static_cast<float>((1.0 - momentum) * running_mean[ch] + momentum * mean);
    running_var[ch] = static_cast<float>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
  }
  return {scale, (beta ? beta[ch] : 0.0f) - static_cast<float>(mean) * scale};
}

void forward_train_1d(float* out, float* save_mean, float* save_invstd, float* running_mean, float* running_var,
                      const float* in, const float* gamma, const float* beta, int64_t n, int64_t c, float momentum,
                      float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t c0 = 0; c0 < c; c0 += kChannelBlock) {
    const int64_t width = std::min(kChannelBlock, c - c0);
    double sum[kChannelBlock] = {}, mean[kChannelBlock], sq[kChannelBlock] = {};
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + b * c + c0;
      for (int64_t j = 0; j < width; ++j) sum[j] += x[j];
    }
    for (int64_t j = 0; j < width; ++j) mean[j] = sum[j] / n;
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + b * c + c0;
      for (int64_t j = 0; j < width; ++j) sq[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
    }
    float scale[kChannelBlock], shift[kChannelBlock];
    for (int64_t j = 0; j < width; ++j) {
      const ScaleShift f = finish_channel(c0 + j, sum[j], sq[j], n, save_mean, save_invstd, running_mean,
                                          running_var, gamma, beta, momentum, eps);
      scale[j] = f.scale, shift[j] = f.shift;
    }
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + b * c + c0;
      float* y = out + b * c + c0;
      for (int64_t j = 0; j < width; ++j) y[j] = x[j] * scale[j] + shift[j];
    }
  }
}

// The backward of forward_train_1d, in the same channel blocks; see batch_norm_backward.
void backward_1d(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                 const float* save_mean, const float* save_invstd, const float* gamma, int64_t n, int64_t c,
                 bool accumulate) {
#pragma omp parallel for schedule(static)
  for (int64_t c0 = 0; c0 < c; c0 += kChannelBlock) {
    const int64_t width = std::min(kChannelBlock, c - c0);
    const float* mean = save_mean + c0;
    const float* invstd = save_invstd + c0;
    double sum_dy[kChannelBlock] = {}, sum_dy_xhat[kChannelBlock] = {};
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + b * c + c0;
      const float* dy = dout + b * c + c0;
      for (int64_t j = 0; j < width; ++j) {
        sum_dy[j] += dy[j];
        sum_dy_xhat[j] += dy[j] * (x[j] - mean[j]) * invstd[j];
      }
    }
    for (int64_t j = 0; j < width; ++j) {
      if (dbeta) dbeta[c0 + j] += static_cast<float>(sum_dy[j]);
      if (dgamma) dgamma[c0 + j] += static_cast<float>(sum_dy_xhat[j]);
    }
    if (!din) continue;
    float k[kChannelBlock], mean_dy[kChannelBlock], mean_dy_xhat[kChannelBlock];
    for (int64_t j = 0; j < width; ++j) {
      k[j] = (gamma ? gamma[c0 + j] : 1.0f) * invstd[j];
      mean_dy[j] = static_cast<float>(sum_dy[j] / n);
      mean_dy_xhat[j] = static_cast<float>(sum_dy_xhat[j] / n);
    }
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + b * c + c0;
      const float* dy = dout + b * c + c0;
      float* dx = din + b * c + c0;
      for (int64_t j = 0; j < width; ++j) {
        const float xhat = (x[j] - mean[j]) * invstd[j];
        dx[j] = (accumulate ? dx[j] : 0.0f) + k[j] * (dy[j] - mean_dy[j] - xhat * mean_dy_xhat[j]);
      }
    }
  }
}

}  // namespace

// The CPU keeps its partial sums on the stack: no workspace.
int64_t batch_norm_workspace_bytes(int64_t, int64_t, int64_t) { return 0; }

void batch_norm_forward_train(float* out, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, const float* in, const float* gamma, const float* beta, int64_t n,
                              int64_t c, int64_t hw, float momentum, float eps, void*) {
  if (hw == 1) {
    return forward_train_1d(out, save_mean, save_invstd, running_mean, running_var, in, gamma, beta, n, c, momentum,
                            eps);
  }
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
    const ScaleShift f = finish_channel(ch, sum, sq, count, save_mean, save_invstd, running_mean, running_var, gamma,
                                        beta, momentum, eps);
    for (int64_t b = 0; b < n; ++b) {
      const float* x = in + (b * c + ch) * hw;
      float* y = out + (b * c + ch) * hw;
      for (int64_t i = 0; i < hw; ++i) y[i] = x[i] * f.scale + f.shift;
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
                         int64_t hw, void*, bool accumulate) {
  if (hw == 1) return backward_1d(din, dgamma, dbeta, dout, in, save_mean, save_invstd, gamma, n, c, accumulate);
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
        dx[i] = (accumulate ? dx[i] : 0.0f) + k * (dy[i] - mean_dy - xhat * mean_dy_xhat);
      }
    }
  }
}

void batch_norm_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                              const float* running_mean, const float* running_var, const float* gamma, int64_t n,
                              int64_t c, int64_t hw, float eps, void*) {
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
