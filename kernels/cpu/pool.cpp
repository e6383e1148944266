#include <limits>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {

// argmax holds the winning element's index within its input plane (y * W + x);
// padding never wins (it is -inf, as in PyTorch).
void max_pool2d_forward(float* out, int32_t* argmax, const float* in, const PoolGeom& g) {
#pragma omp parallel for schedule(static) if (g.planes > kParallelRows)
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const float* x = in + pl * g.h * g.w;
    for (int64_t p = 0; p < g.p; ++p) {
      for (int64_t q = 0; q < g.q; ++q) {
        float best = -std::numeric_limits<float>::infinity();
        int32_t best_i = -1;
        for (int64_t r = 0; r < g.kernel_h; ++r) {
          const int64_t y = p * g.stride_h - g.pad_h + r;
          if (y < 0 || y >= g.h) continue;
          for (int64_t s = 0; s < g.kernel_w; ++s) {
            const int64_t xx = q * g.stride_w - g.pad_w + s;
            if (xx < 0 || xx >= g.w) continue;
            const float v = x[y * g.w + xx];
            if (v > best || best_i < 0) {
              best = v;
              best_i = static_cast<int32_t>(y * g.w + xx);
            }
          }
        }
        out[(pl * g.p + p) * g.q + q] = best;
        argmax[(pl * g.p + p) * g.q + q] = best_i;
      }
    }
  }
}

void max_pool2d_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeom& g) {
#pragma omp parallel for schedule(static) if (g.planes > kParallelRows)
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    for (int64_t o = 0; o < g.p * g.q; ++o) {
      din[pl * g.h * g.w + argmax[pl * g.p * g.q + o]] += dout[pl * g.p * g.q + o];
    }
  }
}

void avg_pool2d_forward(float* out, const float* in, const PoolGeom& g) {
  const float inv = 1.0f / static_cast<float>(g.kernel_h * g.kernel_w);
#pragma omp parallel for schedule(static) if (g.planes > kParallelRows)
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const float* x = in + pl * g.h * g.w;
    for (int64_t p = 0; p < g.p; ++p) {
      for (int64_t q = 0; q < g.q; ++q) {
        float sum = 0.0f;
        for (int64_t r = 0; r < g.kernel_h; ++r) {
          const int64_t y = p * g.stride_h - g.pad_h + r;
          if (y < 0 || y >= g.h) continue;
          for (int64_t s = 0; s < g.kernel_w; ++s) {
            const int64_t xx = q * g.stride_w - g.pad_w + s;
            if (xx >= 0 && xx < g.w) sum += x[y * g.w + xx];
          }
        }
        out[(pl * g.p + p) * g.q + q] = sum * inv;
      }
    }
  }
}

void avg_pool2d_backward(float* din, const float* dout, const PoolGeom& g) {
  const float inv = 1.0f / static_cast<float>(g.kernel_h * g.kernel_w);
#pragma omp parallel for schedule(static) if (g.planes > kParallelRows)
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    float* dx = din + pl * g.h * g.w;
    for (int64_t p = 0; p < g.p; ++p) {
      for (int64_t q = 0; q < g.q; ++q) {
        const float gv = dout[(pl * g.p + p) * g.q + q] * inv;
        for (int64_t r = 0; r < g.kernel_h; ++r) {
          const int64_t y = p * g.stride_h - g.pad_h + r;
          if (y < 0 || y >= g.h) continue;
          for (int64_t s = 0; s < g.kernel_w; ++s) {
            const int64_t xx = q * g.stride_w - g.pad_w + s;
            if (xx >= 0 && xx < g.w) dx[y * g.w + xx] += gv;
          }
        }
      }
    }
  }
}

void upsample_nearest2d_forward(float* out, const float* in, int64_t planes, int64_t h, int64_t w, int64_t scale) {
  const int64_t oh = h * scale, ow = w * scale;
#pragma omp parallel for schedule(static) if (planes > kParallelRows)
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t y = 0; y < oh; ++y) {
      const float* src = in + (pl * h + y / scale) * w;
      float* dst = out + (pl * oh + y) * ow;
      for (int64_t x = 0; x < ow; ++x) dst[x] = src[x / scale];
    }
  }
}

void upsample_nearest2d_backward(float* din, const float* dout, int64_t planes, int64_t h, int64_t w,
                                 int64_t scale) {
  const int64_t oh = h * scale, ow = w * scale;
#pragma omp parallel for schedule(static) if (planes > kParallelRows)
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t y = 0; y < oh; ++y) {
      float* dst = din + (pl * h + y / scale) * w;
      const float* src = dout + (pl * oh + y) * ow;
      for (int64_t x = 0; x < ow; ++x) dst[x / scale] += src[x];
    }
  }
}

}  // namespace cfgan::cpu
