// GradCheck.* for reductions and softmax.
#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// A sum of up to 24 values of O(1) rounds to 1 ulp of |sum| <= ~5 (5e-7): divided by
// 2 kEps that is 2.5e-4 |w| of noise.
constexpr Tolerance kSum{1e-3, 1e-4};

// max copies one element, which moves by exactly the step taken: both sides are exact
// up to the float rounding of the analytic gradient.
constexpr Tolerance kMax{1e-5, 1e-6};

// Softmax couples the r <= 4 outputs of a row: each input moves all of them, so the
// noise is ~sqrt(r) times the elementwise one.
constexpr Tolerance kSoftmax{1e-3, 1e-4};

}  // namespace

TEST(GradCheck, Sum) {
  const Tensor x = uniform({2, 3, 4}, 1);
  check_gradients("sum all", [](const std::vector<Tensor>& in) { return sum(in[0]); }, {{x}}, kSum);
  for (bool keepdim : {false, true}) {
    const char* k = keepdim ? " keepdim" : "";
    check_gradients(cat("sum dim 1", k), [keepdim](const std::vector<Tensor>& in) { return sum(in[0], {1}, keepdim); },
                    {{x}}, kSum);
    check_gradients(cat("sum dims {0,2}", k),
                    [keepdim](const std::vector<Tensor>& in) { return sum(in[0], {0, 2}, keepdim); }, {{x}}, kSum);
    check_gradients(cat("sum dim -1", k),
                    [keepdim](const std::vector<Tensor>& in) { return sum(in[0], {-1}, keepdim); }, {{x}}, kSum);
  }
}

TEST(GradCheck, Mean) {
  const Tensor x = uniform({2, 3, 4}, 2);
  check_gradients("mean all", [](const std::vector<Tensor>& in) { return mean(in[0]); }, {{x}}, kSum);
  for (bool keepdim : {false, true}) {
    const char* k = keepdim ? " keepdim" : "";
    check_gradients(cat("mean dim 1", k),
                    [keepdim](const std::vector<Tensor>& in) { return mean(in[0], {1}, keepdim); }, {{x}}, kSum);
    check_gradients(cat("mean dims {2,0}", k),
                    [keepdim](const std::vector<Tensor>& in) { return mean(in[0], {2, 0}, keepdim); }, {{x}}, kSum);
  }
}

TEST(GradCheck, Max) {
  // Distinct values 0.05 apart: the maximum never changes under a kEps perturbation.
  const Tensor x = distinct_values({2, 3, 4}, 1);
  check_gradients("max all", [](const std::vector<Tensor>& in) { return max(in[0]); }, {{x}}, kMax);
  for (int dim : {0, 1, 2, -1}) {
    for (bool keepdim : {false, true}) {
      check_gradients(cat("max dim ", dim, keepdim ? " keepdim" : ""),
                      [dim, keepdim](const std::vector<Tensor>& in) { return max(in[0], dim, keepdim); }, {{x}},
                      kMax);
    }
  }
}

TEST(GradCheck, Softmax) {
  const Tensor x = uniform({2, 3, 4}, 3, -2.0f, 2.0f);
  check_gradients("softmax dim -1", [](const std::vector<Tensor>& in) { return softmax(in[0], -1); }, {{x}}, kSoftmax);
  check_gradients("softmax dim 1", [](const std::vector<Tensor>& in) { return softmax(in[0], 1); }, {{x}}, kSoftmax);
  check_gradients("softmax dim 0", [](const std::vector<Tensor>& in) { return softmax(in[0], 0); }, {{x}}, kSoftmax);
}

TEST(GradCheck, LogSoftmax) {
  const Tensor x = uniform({2, 3, 4}, 4, -2.0f, 2.0f);
  check_gradients("log_softmax dim -1", [](const std::vector<Tensor>& in) { return log_softmax(in[0], -1); }, {{x}},
                  kSoftmax);
  check_gradients("log_softmax dim 1", [](const std::vector<Tensor>& in) { return log_softmax(in[0], 1); }, {{x}},
                  kSoftmax);
}
