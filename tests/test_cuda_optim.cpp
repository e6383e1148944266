// CudaParity for the optimizer steps: three Adam / SGD steps on the CUDA backend equal
// the CPU's, from non-zero optimizer state.
//
// Tolerances, per kernel (parameters and state are O(1) here):
// - AdamUpdate: 1e-6 absolute (8 ulp at 1) on param and m, 1e-6 relative on v (a sum
//   of positive terms). The expressions are the CPU's term for term, but either
//   compiler may fuse beta * m + (1 - beta) * g or g + wd * p into an FMA, and that
//   rounding difference is carried through three steps.
// - SgdUpdate: 4.8e-7 absolute (4 ulp at 1) on param and the momentum buffer, for the
//   same FMA reason.
#include <cmath>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

constexpr int64_t kSizes[] = {1, 5, 7, 13, 129, 4099};

}  // namespace

TEST_P(CudaParity, AdamUpdate) {
  const float lr = 1e-2f, beta1 = 0.5f, beta2 = 0.999f, eps = 1e-8f;
  for (const int64_t n : kSizes) {
    for (const float weight_decay : {0.0f, 0.01f}) {
      const std::string what = "adam n " + std::to_string(n) + ", weight decay " + std::to_string(weight_decay);
      std::vector<float> param = random_values(n, -1, 1, n), m = random_values(n, -0.1f, 0.1f, n + 1),
                         v = random_values(n, 0, 0.01f, n + 2);
      GuardedBuffer<float> param_buf(cuda(), param), m_buf(cuda(), m), v_buf(cuda(), v);
      for (int step = 1; step <= 3; ++step) {
        const std::vector<float> grad = random_values(n, -1, 1, 10 * n + step);
        GuardedBuffer<float> grad_buf(cuda(), grad);
        const float bc1 = 1.0f - std::pow(beta1, static_cast<float>(step));
        const float bc2 = 1.0f - std::pow(beta2, static_cast<float>(step));
        cpu().adam_update(param.data(), grad.data(), m.data(), v.data(), n, lr, beta1, beta2, eps, weight_decay, bc1,
                          bc2);
        cuda().adam_update(param_buf.data(), grad_buf.data(), m_buf.data(), v_buf.data(), n, lr, beta1, beta2, eps,
                           weight_decay, bc1, bc2);
      }
      expect_close(param_buf.read(what), param, 1e-6f, 0.0f, what + ", param");
      expect_close(m_buf.read(what), m, 1e-6f, 0.0f, what + ", m");
      expect_close(v_buf.read(what), v, 0.0f, 1e-6f, what + ", v");
    }
  }
}

TEST_P(CudaParity, SgdUpdate) {
  const float lr = 0.05f;
  for (const int64_t n : kSizes) {
    for (const float weight_decay : {0.0f, 0.01f}) {
      // Without momentum the buffer is null on both backends: neither may touch it.
      {
        const std::string what = "sgd without momentum, n " + std::to_string(n);
        std::vector<float> param = random_values(n, -1, 1, n);
        const std::vector<float> grad = random_values(n, -1, 1, n + 1);
        GuardedBuffer<float> param_buf(cuda(), param), grad_buf(cuda(), grad);
        cpu().sgd_update(param.data(), grad.data(), nullptr, n, lr, 0.0f, weight_decay, true);
        cuda().sgd_update(param_buf.data(), grad_buf.data(), nullptr, n, lr, 0.0f, weight_decay, true);
        expect_close(param_buf.read(what), param, 4.8e-7f, 0.0f, what + ", param");
      }
      const std::string what = "sgd with momentum, n " + std::to_string(n) + ", weight decay " +
                               std::to_string(weight_decay);
      std::vector<float> param = random_values(n, -1, 1, n), buf = random_values(n, -1, 1, n + 2);
      GuardedBuffer<float> param_buf(cuda(), param), buf_buf(cuda(), buf);
      for (int step = 0; step < 3; ++step) {
        const std::vector<float> grad = random_values(n, -1, 1, 10 * n + step);
        GuardedBuffer<float> grad_buf(cuda(), grad);
        cpu().sgd_update(param.data(), grad.data(), buf.data(), n, lr, 0.9f, weight_decay, step == 0);
        cuda().sgd_update(param_buf.data(), grad_buf.data(), buf_buf.data(), n, lr, 0.9f, weight_decay, step == 0);
      }
      expect_close(param_buf.read(what), param, 4.8e-7f, 0.0f, what + ", param");
      expect_close(buf_buf.read(what), buf, 4.8e-7f, 0.0f, what + ", momentum buffer");
    }
  }
}
