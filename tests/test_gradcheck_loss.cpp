// GradCheck.* for the losses, embedding and dropout. The losses end in a mean, so
// their projection is one scalar; its rounding (1 ulp of an O(1) loss) is the noise.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/ops.h"
#include "engine/random.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// A scalar loss of O(1) with one weight |w| <= 3: 1 ulp (1.2e-7) / (2 kEps) is
// 6e-5 |w|; the per-element terms are averaged, so their rounding adds less.
constexpr Tolerance kLoss{2e-4, 1e-4};

// Embedding copies rows, which move by exactly the step taken: the numerical side is
// exact, the analytic one adds up to 3 float weights (repeated indices).
constexpr Tolerance kCopy{1e-5, 1e-6};

// Dropout multiplies by 1 / (1 - p), rounding each output: elementwise noise,
// 1 ulp of |y| <= 1.5 / (2 kEps) ~ 1e-4 |w|.
constexpr Tolerance kDropout{5e-4, 1e-4};

}  // namespace

TEST(GradCheck, BceWithLogits) {
  const Tensor logits = uniform({3, 5}, 1, -3.0f, 3.0f), target = uniform({3, 5}, 2, 0.0f, 1.0f);
  const OpUnderTest op = [](const std::vector<Tensor>& in) { return bce_with_logits(in[0], in[1]); };
  check_gradients("bce_with_logits, logits and target", op, {{logits}, {target}}, kLoss);
  check_gradients("bce_with_logits, logits only", op, {{logits}, {target, false}}, kLoss);
  check_gradients("bce_with_logits, target only", op, {{logits, false}, {target}}, kLoss);
}

TEST(GradCheck, CrossEntropy) {
  check_gradients("cross_entropy (4,5)",
                  [](const std::vector<Tensor>& in) { return cross_entropy(in[0], {3, 0, 4, 3}); },
                  {{uniform({4, 5}, 1, -2.0f, 2.0f)}}, kLoss);
  check_gradients("cross_entropy (1,2)", [](const std::vector<Tensor>& in) { return cross_entropy(in[0], {1}); },
                  {{uniform({1, 2}, 2, -2.0f, 2.0f)}}, kLoss);
}

TEST(GradCheck, MseLoss) {
  check_gradients("mse_loss", [](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1]); },
                  {{uniform({3, 5}, 1)}, {uniform({3, 5}, 2)}}, kLoss);
}

TEST(GradCheck, L1Loss) {
  // x - target stays more than 2 kEps from the kink at 0, on either side.
  const Tensor target = uniform({3, 5}, 1);
  const Tensor offset = uniform_away_from({3, 5}, 2, -1.0f, 1.0f, {0.0f});
  check_gradients("l1_loss", [](const std::vector<Tensor>& in) { return l1_loss(in[0], in[1]); },
                  {{add(target, offset)}, {target}}, kLoss);
}

TEST(GradCheck, Embedding) {
  check_gradients("embedding (5,3) rows {1,3,1,0,1}",
                  [](const std::vector<Tensor>& in) { return embedding(in[0], {1, 3, 1, 0, 1}); },
                  {{uniform({5, 3}, 1)}}, kCopy);
}

TEST(GradCheck, Dropout) {
  // A fresh Generator per forward: every evaluation draws the same mask.
  const OpUnderTest op = [](const std::vector<Tensor>& in) {
    Generator gen(7);
    return dropout(in[0], 0.3f, true, gen);
  };
  const Tensor x = uniform({4, 6}, 1);
  {
    Generator gen(7);
    const std::vector<float> y = dropout(x, 0.3f, true, gen).to_host();
    const auto dropped = std::count(y.begin(), y.end(), 0.0f);
    ASSERT_GT(dropped, 0) << "the mask must drop something for the check to mean anything";
    ASSERT_LT(dropped, 24) << "the mask must keep something for the check to mean anything";
  }
  check_gradients("dropout p 0.3 training", op, {{x}}, kDropout);
  check_gradients("dropout eval (identity)",
                  [](const std::vector<Tensor>& in) {
                    Generator gen(7);
                    return dropout(in[0], 0.3f, false, gen);
                  },
                  {{x}}, kCopy);
}
