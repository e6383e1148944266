// CudaParity for batch norm, in both regimes the kernels are built for: many small
// channels (DCGAN's BatchNorm1d, 64 values in each of 6272 channels) and few wide ones
// (scaled-down N=128, 64x64, 64 channels, which the CUDA kernels split across blocks
// along the batch and along HW), plus one-element and odd shapes.
//
// Tolerances, per output (eps = FLT_EPSILON):
// - save_mean, running_mean: eps * max|x| (+ max|running_mean|): both backends sum in
//   double, in different orders (the CPU two-pass, CUDA one-pass shifted by the first
//   value), so only the final rounding to float can differ, by 1 ulp.
// - save_invstd, running_var: 2 eps relative, for the same reason.
// - out (forward, train and eval): 4 eps * max|x * scale| + |shift|: y = x * scale +
//   shift, and shift = beta - mean * scale, may each be fused into an FMA by one
//   compiler and not by the other.
// - dgamma, dbeta: 2 eps * (max|before| + max|sum|): double sums in another order,
//   rounded to float, added to the existing gradient.
// - din: 4 eps * the largest term of din + scale * (dy - mean_dy - xhat * mean_dy_xhat):
//   FMA contraction again, and mean_dy, mean_dy_xhat may differ by 1 ulp.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct BnCase {
  int64_t n, c, hw;
  float center;  // the data are center + [-2, 4) * spread
  float spread;
  const char* what;
};

const BnCase kBnCases[] = {
    {1, 1, 1, 0, 1, "one element"},
    {2, 1, 1, 0, 1, "two elements"},
    {64, 6272, 1, 0, 1, "DCGAN BatchNorm1d: 64 values per channel, 32 channels per block"},
    {5, 70, 1, 0, 1, "BatchNorm1d with 70 channels: the CPU's 64-channel blocks end in a partial one"},
    {5, 7, 13, 0, 1, "odd sizes, 2 channels per block"},
    {3, 5, 7, 0, 1, "odd sizes, 4 channels per block, a partial last group"},
    {7, 13, 129, 0, 1, "channels wider than a warp"},
    {64, 2, 256, 0, 1, "few channels: split along the batch"},
    {16, 3, 1369, 0, 1, "few wide channels: split along the batch and HW"},
    {2, 1, 9000, 0, 1, "one wide channel: split along HW"},
    {8, 3, 200, 1000, 0.01f, "mean 10^5 standard deviations from zero"},
    {64, 2, 256, -300, 0.05f, "mean far from zero, split along the batch"},
};

struct BnData {
  std::vector<float> x, gamma, beta, running_mean, running_var;
};

BnData make_data(const BnCase& k, uint64_t seed) {
  BnData d;
  d.x = random_values(k.n * k.c * k.hw, -2, 4, seed);
  for (float& v : d.x) v = k.center + v * k.spread;
  d.gamma = random_values(k.c, 0.5f, 1.5f, seed + 1);
  d.beta = random_values(k.c, -0.5f, 0.5f, seed + 2);
  d.running_mean = random_values(k.c, -0.2f, 0.2f, seed + 3);
  d.running_var = random_values(k.c, 0.5f, 1.5f, seed + 4);
  return d;
}

float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (const float x : v) m = std::fmax(m, std::fabs(x));
  return m;
}

// max over elements of |x * scale| + |shift|, the magnitude y = x * scale + shift is rounded at.
float affine_bound(const BnCase& k, const std::vector<float>& x, const std::vector<float>& scale,
                   const std::vector<float>& shift) {
  float bound = 0.0f;
  for (int64_t i = 0; i < k.n * k.c * k.hw; ++i) {
    const int64_t ch = i / k.hw % k.c;
    bound = std::fmax(bound, std::fabs(x[i] * scale[ch]) + std::fabs(shift[ch]));
  }
  return bound;
}

// A device buffer for an optional tensor: null when absent.
std::optional<GuardedBuffer<float>> maybe(const Kernels& k, bool present, const std::vector<float>& v) {
  if (!present) return std::nullopt;
  return std::optional<GuardedBuffer<float>>(std::in_place, k, v);
}
float* ptr(std::optional<GuardedBuffer<float>>& b) { return b ? b->data() : nullptr; }

}  // namespace

TEST_P(CudaParity, BatchNormForwardTrain) {
  const float momentum = 0.1f, eps = 1e-5f;
  for (const BnCase& k : kBnCases) {
    for (const bool affine_and_running : {true, false}) {
      if (!affine_and_running && k.n * k.c * k.hw > 20000) continue;  // the null variants on the smaller cases
      const std::string what =
          std::string("batch norm forward, ") + k.what + (affine_and_running ? "" : ", no gamma/beta/running stats");
      const BnData d = make_data(k, k.n * 131 + k.c * 7 + k.hw);
      const int64_t size = k.n * k.c * k.hw;
      std::vector<float> out(size), mean(k.c), invstd(k.c), rm = d.running_mean, rv = d.running_var;
      const float* gamma = affine_and_running ? d.gamma.data() : nullptr;
      const float* beta = affine_and_running ? d.beta.data() : nullptr;
      cpu().batch_norm_forward_train(out.data(), mean.data(), invstd.data(), affine_and_running ? rm.data() : nullptr,
                                     affine_and_running ? rv.data() : nullptr, d.x.data(), gamma, beta, k.n, k.c,
                                     k.hw, momentum, eps, nullptr);

      GuardedBuffer<float> x_buf(cuda(), d.x), out_buf(cuda(), size, 0.0f), mean_buf(cuda(), k.c, 0.0f),
          invstd_buf(cuda(), k.c, 0.0f);
      auto gamma_buf = maybe(cuda(), affine_and_running, d.gamma), beta_buf = maybe(cuda(), affine_and_running, d.beta);
      auto rm_buf = maybe(cuda(), affine_and_running, d.running_mean);
      auto rv_buf = maybe(cuda(), affine_and_running, d.running_var);
      Workspace ws(cuda(), cuda().batch_norm_workspace_bytes(k.n, k.c, k.hw));
      cuda().batch_norm_forward_train(out_buf.data(), mean_buf.data(), invstd_buf.data(), ptr(rm_buf), ptr(rv_buf),
                                      x_buf.data(), ptr(gamma_buf), ptr(beta_buf), k.n, k.c, k.hw, momentum, eps,
                                      ws.data());
      ws.check("batch_norm_forward_train workspace");

      const float x_max = max_abs(d.x);
      expect_close(mean_buf.read(what), mean, FLT_EPSILON * x_max, 0.0f, what + ", save_mean");
      expect_close(invstd_buf.read(what), invstd, 0.0f, 2 * FLT_EPSILON, what + ", save_invstd");
      if (affine_and_running) {
        expect_close(rm_buf->read(what), rm, FLT_EPSILON * (x_max + max_abs(d.running_mean)), 0.0f,
                     what + ", running_mean");
        expect_close(rv_buf->read(what), rv, 0.0f, 2 * FLT_EPSILON, what + ", running_var");
      }
      std::vector<float> scale(k.c), shift(k.c);
      for (int64_t ch = 0; ch < k.c; ++ch) {
        scale[ch] = (gamma ? gamma[ch] : 1.0f) * invstd[ch];
        shift[ch] = (beta ? beta[ch] : 0.0f) - mean[ch] * scale[ch];
      }
      expect_close(out_buf.read(what), out, 4 * FLT_EPSILON * affine_bound(k, d.x, scale, shift), 0.0f, what + ", out");
    }
  }
}

TEST_P(CudaParity, BatchNormForwardEval) {
  const float eps = 1e-5f;
  for (const BnCase& k : kBnCases) {
    for (const bool affine : {true, false}) {
      const std::string what = std::string("batch norm eval, ") + k.what + (affine ? "" : ", no gamma/beta");
      const BnData d = make_data(k, k.n * 17 + k.c + k.hw);
      const int64_t size = k.n * k.c * k.hw;
      std::vector<float> out(size);
      cpu().batch_norm_forward_eval(out.data(), d.x.data(), d.running_mean.data(), d.running_var.data(),
                                    affine ? d.gamma.data() : nullptr, affine ? d.beta.data() : nullptr, k.n, k.c,
                                    k.hw, eps);
      GuardedBuffer<float> x_buf(cuda(), d.x), out_buf(cuda(), size, 0.0f), rm_buf(cuda(), d.running_mean),
          rv_buf(cuda(), d.running_var);
      auto gamma_buf = maybe(cuda(), affine, d.gamma), beta_buf = maybe(cuda(), affine, d.beta);
      cuda().batch_norm_forward_eval(out_buf.data(), x_buf.data(), rm_buf.data(), rv_buf.data(), ptr(gamma_buf),
                                     ptr(beta_buf), k.n, k.c, k.hw, eps);
      std::vector<float> scale(k.c), shift(k.c);
      for (int64_t ch = 0; ch < k.c; ++ch) {
        scale[ch] = (affine ? d.gamma[ch] : 1.0f) / std::sqrt(d.running_var[ch] + eps);
        shift[ch] = (affine ? d.beta[ch] : 0.0f) - d.running_mean[ch] * scale[ch];
      }
      expect_close(out_buf.read(what), out, 4 * FLT_EPSILON * affine_bound(k, d.x, scale, shift), 0.0f, what);
    }
  }
}

namespace {

// Which gradients a backward call asks for.
struct Wanted {
  bool din, dgamma, dbeta, gamma;
  const char* what;
};

constexpr Wanted kAll{true, true, true, true, "all gradients"};
constexpr Wanted kVariants[] = {
    kAll,
    {true, false, false, true, "din only"},
    {false, true, true, true, "dgamma and dbeta only"},
    {false, false, true, true, "dbeta only"},
    {true, true, false, false, "no gamma, no dbeta"},
};

// The backward of either mode, both backends, compared. `mean` and `invstd` are the
// per-channel statistics the backward normalizes with (batch or running). With
// `din_written`, din starts as NaN, which a kernel writing din must never read.
template <typename RunCpu, typename RunCuda>
void check_backward(const BnCase& k, const Wanted& w, const BnData& d, const std::vector<float>& mean,
                    const std::vector<float>& invstd, const std::string& what, RunCpu run_cpu, RunCuda run_cuda,
                    const Kernels& cuda, bool training, bool din_written = false) {
  const int64_t size = k.n * k.c * k.hw;
  const std::vector<float> dout = random_values(size, -1, 1, size + 5);
  // The gradients already hold values: backward must add to them.
  std::vector<float> din = din_written ? nan_filled(size) : random_values(size, -1, 1, size + 6),
                     dgamma = random_values(k.c, -1, 1, k.c + 7), dbeta = random_values(k.c, -1, 1, k.c + 8);
  const std::vector<float> din0 = din_written ? std::vector<float>(size, 0.0f) : din, dgamma0 = dgamma,
                           dbeta0 = dbeta;
  GuardedBuffer<float> dout_buf(cuda, dout), x_buf(cuda, d.x);
  auto din_buf = maybe(cuda, w.din, din), dgamma_buf = maybe(cuda, w.dgamma, dgamma),
       dbeta_buf = maybe(cuda, w.dbeta, dbeta), gamma_buf = maybe(cuda, w.gamma, d.gamma);
  run_cpu(w.din ? din.data() : nullptr, w.dgamma ? dgamma.data() : nullptr, w.dbeta ? dbeta.data() : nullptr,
          dout.data(), d.x.data(), w.gamma ? d.gamma.data() : nullptr);
  run_cuda(ptr(din_buf), ptr(dgamma_buf), ptr(dbeta_buf), dout_buf.data(), x_buf.data(), ptr(gamma_buf));
  if (din_written) {  // every element written: none of the NaN it started as is left (the CUDA side must match)
    EXPECT_EQ(std::count_if(din.begin(), din.end(), [](float v) { return std::isnan(v); }), 0) << what;
  }

  std::vector<double> sum_dy(k.c), sum_dy_xhat(k.c);
  for (int64_t i = 0; i < size; ++i) {
    const int64_t ch = i / k.hw % k.c;
    sum_dy[ch] += dout[i];
    sum_dy_xhat[ch] += dout[i] * (d.x[i] - mean[ch]) * invstd[ch];
  }
  if (w.dbeta) {
    float sum_max = 0.0f;
    for (const double s : sum_dy) sum_max = std::fmax(sum_max, std::fabs(static_cast<float>(s)));
    expect_close(dbeta_buf->read(what), dbeta, 2 * FLT_EPSILON * (max_abs(dbeta0) + sum_max), 0.0f, what + ", dbeta");
  }
  if (w.dgamma) {
    float sum_max = 0.0f;
    for (const double s : sum_dy_xhat) sum_max = std::fmax(sum_max, std::fabs(static_cast<float>(s)));
    expect_close(dgamma_buf->read(what), dgamma, 2 * FLT_EPSILON * (max_abs(dgamma0) + sum_max), 0.0f,
                 what + ", dgamma");
  }
  if (w.din) {
    const int64_t count = k.n * k.hw;
    float bound = 0.0f;
    for (int64_t i = 0; i < size; ++i) {
      const int64_t ch = i / k.hw % k.c;
      const float scale = std::fabs((w.gamma ? d.gamma[ch] : 1.0f) * invstd[ch]);
      const float xhat = (d.x[i] - mean[ch]) * invstd[ch];
      const float terms = training ? std::fabs(dout[i]) + std::fabs(static_cast<float>(sum_dy[ch] / count)) +
                                         std::fabs(xhat * static_cast<float>(sum_dy_xhat[ch] / count))
                                   : std::fabs(dout[i]);
      bound = std::fmax(bound, std::fabs(din0[i]) + scale * terms);
    }
    expect_close(din_buf->read(what), din, 4 * FLT_EPSILON * bound, 0.0f, what + ", din");
  }
}

}  // namespace

// din added to, and (for the variants that want it) written over NaN.
TEST_P(CudaParity, BatchNormBackward) {
  for (const BnCase& k : kBnCases) {
    for (const Wanted& w : kVariants) {
      for (const bool written : {false, true}) {
        if (&w != &kVariants[0] && k.n * k.c * k.hw > 20000) continue;  // the variants on the smaller cases
        if (written && !w.din) continue;
        const std::string what =
            std::string("batch norm backward, ") + k.what + ", " + w.what + (written ? ", din written" : "");
        const BnData d = make_data(k, k.n * 29 + k.c * 3 + k.hw);
        std::vector<float> out(k.n * k.c * k.hw), mean(k.c), invstd(k.c);
        cpu().batch_norm_forward_train(out.data(), mean.data(), invstd.data(), nullptr, nullptr, d.x.data(),
                                       d.gamma.data(), d.beta.data(), k.n, k.c, k.hw, 0.1f, 1e-5f, nullptr);
        GuardedBuffer<float> mean_buf(cuda(), mean), invstd_buf(cuda(), invstd);
        check_backward(
            k, w, d, mean, invstd, what,
            [&](float* din, float* dgamma, float* dbeta, const float* dout, const float* x, const float* gamma) {
              cpu().batch_norm_backward(din, dgamma, dbeta, dout, x, mean.data(), invstd.data(), gamma, k.n, k.c,
                                        k.hw, nullptr, !written);
            },
            [&](float* din, float* dgamma, float* dbeta, const float* dout, const float* x, const float* gamma) {
              Workspace ws(cuda(), cuda().batch_norm_workspace_bytes(k.n, k.c, k.hw));
              cuda().batch_norm_backward(din, dgamma, dbeta, dout, x, mean_buf.data(), invstd_buf.data(), gamma,
                                         k.n, k.c, k.hw, ws.data(), !written);
              ws.check("batch_norm_backward workspace");
            },
            cuda(), true, written);
      }
    }
  }
}

TEST_P(CudaParity, BatchNormBackwardEval) {
  const float eps = 1e-5f;
  for (const BnCase& k : kBnCases) {
    for (const Wanted& w : kVariants) {
      if (&w != &kVariants[0] && k.n * k.c * k.hw > 20000) continue;
      const std::string what = std::string("batch norm eval backward, ") + k.what + ", " + w.what;
      const BnData d = make_data(k, k.n * 37 + k.c * 5 + k.hw);
      std::vector<float> invstd(k.c);
      for (int64_t ch = 0; ch < k.c; ++ch) invstd[ch] = 1.0f / std::sqrt(d.running_var[ch] + eps);
      GuardedBuffer<float> rm_buf(cuda(), d.running_mean), rv_buf(cuda(), d.running_var);
      check_backward(
          k, w, d, d.running_mean, invstd, what,
          [&](float* din, float* dgamma, float* dbeta, const float* dout, const float* x, const float* gamma) {
            cpu().batch_norm_backward_eval(din, dgamma, dbeta, dout, x, d.running_mean.data(), d.running_var.data(),
                                           gamma, k.n, k.c, k.hw, eps, nullptr);
          },
          [&](float* din, float* dgamma, float* dbeta, const float* dout, const float* x, const float* gamma) {
            Workspace ws(cuda(), cuda().batch_norm_workspace_bytes(k.n, k.c, k.hw));
            cuda().batch_norm_backward_eval(din, dgamma, dbeta, dout, x, rm_buf.data(), rv_buf.data(), gamma, k.n,
                                            k.c, k.hw, eps, ws.data());
            ws.check("batch_norm_backward_eval workspace");
          },
          cuda(), false);
    }
  }
}
