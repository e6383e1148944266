// GradCheck.* for batch norm, pooling and nearest upsampling.
#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// Training batch norm couples every output of a channel to every input of it: an
// input element moves all M = N*H*W normalized outputs (|y| <= ~2.5), each rounding to
// 1 ulp, so the noise is about sqrt(M) * 6e-5 * |w y| ~ 1e-3 for M <= 30.
constexpr Tolerance kBatchNormTrain{2e-3, 1e-4};

// Eval mode (an elementwise affine map) and average pooling (sums of <= 16 values of
// O(1)): 1 ulp of |y| <= 2 is 1.2e-4 |w| of noise, from a few outputs per input.
constexpr Tolerance kLocal{5e-4, 1e-4};

// max pooling and nearest upsampling copy elements, which move by exactly the step
// taken: the numerical side is exact, the analytic one adds up to 9 float weights.
constexpr Tolerance kCopy{1e-5, 1e-6};

Tensor batch_norm_train(const std::vector<Tensor>& in, bool affine) {
  return batch_norm(in[0], affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), Tensor(), Tensor(), true);
}

}  // namespace

TEST(GradCheck, BatchNormTrain) {
  // Channels with different means and spreads, gamma away from 0 so no channel vanishes.
  const std::vector<GradInput> affine_2d{{uniform({6, 3}, 1, -1.0f, 2.0f)}, {uniform({3}, 2, 0.5f, 1.5f)},
                                         {uniform({3}, 3)}};
  check_gradients("batch_norm train (6,3) with gamma, beta",
                  [](const std::vector<Tensor>& in) { return batch_norm_train(in, true); }, affine_2d,
                  kBatchNormTrain);
  check_gradients("batch_norm train (6,3) without gamma, beta",
                  [](const std::vector<Tensor>& in) { return batch_norm_train(in, false); },
                  {{uniform({6, 3}, 4, -1.0f, 2.0f)}}, kBatchNormTrain);
  const std::vector<GradInput> affine_4d{{uniform({2, 3, 3, 5}, 5, -1.0f, 2.0f)}, {uniform({3}, 6, 0.5f, 1.5f)},
                                         {uniform({3}, 7)}};
  check_gradients("batch_norm train (2,3,3,5) with gamma, beta",
                  [](const std::vector<Tensor>& in) { return batch_norm_train(in, true); }, affine_4d,
                  kBatchNormTrain);
  check_gradients("batch_norm train (2,3,3,5) without gamma, beta",
                  [](const std::vector<Tensor>& in) { return batch_norm_train(in, false); },
                  {{uniform({2, 3, 3, 5}, 8, -1.0f, 2.0f)}}, kBatchNormTrain);
  // Running statistics are updated on every call but do not enter the training output.
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::ones({3});
  check_gradients("batch_norm train (2,3,3,5) updating running stats",
                  [running_mean, running_var](const std::vector<Tensor>& in) {
                    return batch_norm(in[0], in[1], in[2], running_mean, running_var, true, 0.1f);
                  },
                  affine_4d, kBatchNormTrain);
}

TEST(GradCheck, BatchNormEval) {
  const Tensor running_mean = uniform({3}, 10, -0.5f, 0.5f), running_var = uniform({3}, 11, 0.5f, 2.0f);
  check_gradients("batch_norm eval (2,3,3,5) with gamma, beta",
                  [running_mean, running_var](const std::vector<Tensor>& in) {
                    return batch_norm(in[0], in[1], in[2], running_mean, running_var, false);
                  },
                  {{uniform({2, 3, 3, 5}, 1)}, {uniform({3}, 2, 0.5f, 1.5f)}, {uniform({3}, 3)}}, kLocal);
  check_gradients("batch_norm eval (5,3) without gamma, beta",
                  [running_mean, running_var](const std::vector<Tensor>& in) {
                    return batch_norm(in[0], Tensor(), Tensor(), running_mean, running_var, false);
                  },
                  {{uniform({5, 3}, 4)}}, kLocal);
}

TEST(GradCheck, MaxPool2d) {
  // Distinct values 0.05 apart: no window has a tie or a runner-up within kEps.
  const Tensor x = distinct_values({2, 2, 5, 7}, 1);
  struct Case {
    int64_t kernel, stride, padding;
  };
  for (const Case& c : {Case{2, 0, 0}, Case{3, 2, 1}, Case{3, 1, 0}, Case{2, 1, 1}}) {
    check_gradients(cat("max_pool2d kernel ", c.kernel, " stride ", c.stride, " padding ", c.padding),
                    [c](const std::vector<Tensor>& in) { return max_pool2d(in[0], c.kernel, c.stride, c.padding); },
                    {{x}}, kCopy);
  }
}

TEST(GradCheck, AvgPool2d) {
  struct Case {
    int64_t kernel, stride, padding;
  };
  uint64_t seed = 1;
  for (const Case& c : {Case{2, 0, 0}, Case{3, 2, 1}, Case{3, 1, 1}, Case{4, 3, 2}}) {
    check_gradients(cat("avg_pool2d kernel ", c.kernel, " stride ", c.stride, " padding ", c.padding),
                    [c](const std::vector<Tensor>& in) { return avg_pool2d(in[0], c.kernel, c.stride, c.padding); },
                    {{uniform({2, 2, 5, 7}, seed++)}}, kLocal);
  }
}

TEST(GradCheck, UpsampleNearest2d) {
  for (int64_t scale : {1, 2, 3}) {
    check_gradients(cat("upsample_nearest2d scale ", scale),
                    [scale](const std::vector<Tensor>& in) { return upsample_nearest2d(in[0], scale); },
                    {{uniform({2, 2, 3, 5}, static_cast<uint64_t>(scale))}}, kCopy);
  }
}
