// The gradient checker catches what it is for: a wrong backward, a backward that
// overwrites instead of accumulating, and a gradient of the wrong shape.
#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/gradcheck.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

namespace cfgan {
namespace {

// y = x^3 with a backward given by `backward(x, grad_out, grads)`.
template <typename Backward>
Tensor cube_with(const Tensor& x, Backward backward) {
  Tensor out;
  {
    NoGrad no_tape;
    out = x * x * x;
  }
  record(out, "cube", {x}, [x = x.detach(), backward](const Tensor& g, GradSink& grads) { backward(x, g, grads); });
  return out;
}

const GradTolerance kCubeTolerance{1e-3, 1e-3};  // O(1) values, as in the elementwise tests

std::vector<std::string> check_cube(auto backward) {
  const Tensor x = testing::uniform({3, 4}, 11);
  return gradient_check_failures(
      "cube", [&](const std::vector<Tensor>& in) { return cube_with(in[0], backward); }, {{x}}, kCubeTolerance);
}

TEST(GradCheckChecker, PassesTheRightBackward) {
  const auto failures =
      check_cube([](const Tensor& x, const Tensor& g, GradSink& grads) { grads.add(0, 3.0f * g * x * x); });
  EXPECT_TRUE(failures.empty()) << failures.front();
}

TEST(GradCheckChecker, CatchesAWrongFormula) {
  // 2 x instead of 3 x^2: wrong wherever |3 x^2 - 2 x| exceeds the tolerance.
  const auto failures =
      check_cube([](const Tensor& x, const Tensor& g, GradSink& grads) { grads.add(0, 2.0f * g * x); });
  ASSERT_FALSE(failures.empty());
  EXPECT_NE(failures[0].find("cube, input 0 [3, 4]"), std::string::npos) << failures[0];
  EXPECT_NE(failures[0].find("analytic"), std::string::npos) << failures[0];
}

TEST(GradCheckChecker, CatchesABackwardThatOverwrites) {
  // Right values, but written over the buffer: a second backward does not double it.
  const auto failures = check_cube([](const Tensor& x, const Tensor& g, GradSink& grads) {
    Tensor buffer = grads.grad(0);  // a handle to the same buffer
    buffer.copy_(3.0f * g * x * x);
  });
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("must accumulate"), std::string::npos) << failures[0];
}

TEST(GradCheckChecker, GradSinkAddNamesAWrongShape) {
  Tensor x = testing::uniform({2, 3}, 5).requires_grad_();
  const Tensor y = cube_with(x, [](const Tensor&, const Tensor&, GradSink& grads) {
    grads.add(0, Tensor::zeros({3, 2}));
  });
  try {
    sum(y).backward();
    FAIL() << "a gradient of the wrong shape must be refused";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("backward of cube: the gradient of input 0 has shape [3, 2], the input [2, 3]"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cfgan
