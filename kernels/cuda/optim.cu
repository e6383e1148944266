// Optimizer steps, fused elementwise: one pass reads parameter, gradient and state and
// writes parameter and state. The arithmetic is kernels/cpu/optim.cpp's, term for
// term, so the backends agree to the rounding of an FMA that one compiler contracts
// and the other does not.
//
// Scalar grid-stride loads: every access is coalesced and each thread keeps several
// independent streams in flight (4 loads, 3 stores for Adam), which is what an
// elementwise kernel needs to reach HBM bandwidth; the parameters of a tensor may
// start at any float, so there is no alignment to build vector loads on.
#include <cmath>
#include <cstdint>

#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;

__global__ void adam_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                            float* __restrict__ v, int64_t n, float step_size, float beta1, float beta2, float eps,
                            float weight_decay, float sqrt_bc2) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float p = param[i];
    const float g = grad[i] + weight_decay * p;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float denom = sqrtf(vi) / sqrt_bc2 + eps;
    param[i] = p - step_size * mi / denom;
  }
}

template <bool kMomentum>
__global__ void sgd_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ momentum_buf,
                           int64_t n, float lr, float momentum, float weight_decay, bool first_step) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float p = param[i];
    float g = grad[i] + weight_decay * p;
    if (kMomentum) {
      g = first_step ? g : momentum * momentum_buf[i] + g;
      momentum_buf[i] = g;
    }
    param[i] = p - lr * g;
  }
}

}  // namespace

void adam_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                 float eps, float weight_decay, float bias_correction1, float bias_correction2) {
  if (n <= 0) return;
  const float step_size = lr / bias_correction1;
  const float sqrt_bc2 = std::sqrt(bias_correction2);
  CFGAN_LAUNCH(adam_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, param, grad, m, v, n, step_size,
               beta1, beta2, eps, weight_decay, sqrt_bc2);
}

// Without momentum the buffer is neither read nor written (it may be null), as on the CPU.
void sgd_update(float* param, const float* grad, float* momentum_buf, int64_t n, float lr, float momentum,
                float weight_decay, bool first_step) {
  if (n <= 0) return;
  if (momentum != 0.0f) {
    CFGAN_LAUNCH(sgd_kernel<true>, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, param, grad, momentum_buf,
                 n, lr, momentum, weight_decay, first_step);
  } else {
    CFGAN_LAUNCH(sgd_kernel<false>, grid_stride_blocks(n, kThreads), kThreads, 0, nullptr, param, grad, momentum_buf,
                 n, lr, momentum, weight_decay, first_step);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
