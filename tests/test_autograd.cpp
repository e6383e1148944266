// Autograd.*: the tape's contract (engine/autograd.h): gradients accumulate, NoGrad
// and detach() keep ops off the tape, and misuse is an Error that says what went wrong.
#include <gtest/gtest.h>

#include <string>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

using namespace cfgan;

namespace {

Tensor leaf(const Shape& shape, const std::vector<float>& values) {
  Tensor t = Tensor::from_host(shape, values);
  t.requires_grad_(true);
  return t;
}

// Runs f, which must throw an Error, and returns its message.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return "";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

}  // namespace

TEST(Autograd, TensorUsedTwiceInOneOpAccumulates) {
  Tensor x = leaf({3}, {1.0f, -2.0f, 0.5f});
  sum(x * x).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{2.0f, -4.0f, 1.0f}));
}

TEST(Autograd, TensorAddedToItselfAccumulates) {
  Tensor x = leaf({2}, {3.0f, 4.0f});
  Tensor y = x + x;
  sum(y).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{2.0f, 2.0f}));
}

TEST(Autograd, TensorUsedByTwoOpsAccumulates) {
  Tensor x = leaf({2}, {3.0f, 4.0f});
  sum(x * 3.0f + square(x)).backward();  // d/dx = 3 + 2x
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{9.0f, 11.0f}));
}

TEST(Autograd, RepeatedBackwardOnFreshGraphsAccumulates) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  sum(x * 2.0f).backward();
  sum(x * 3.0f).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{5.0f, 5.0f}));
}

TEST(Autograd, ZeroGradStartsOver) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  sum(x * 2.0f).backward();
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x * 3.0f).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{3.0f, 3.0f}));
}

TEST(Autograd, NoGradRecordsNothing) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor y;
  {
    NoGrad no_grad;
    EXPECT_FALSE(grad_enabled());
    y = exp(x * x);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_STREQ(y.producer(), "");
  EXPECT_EQ(y.impl()->grad_fn, nullptr);
  // Recording resumes after the scope.
  EXPECT_TRUE((x * x).requires_grad());
}

TEST(Autograd, NoGradNests) {
  {
    NoGrad outer;
    {
      NoGrad inner;
    }
    EXPECT_FALSE(grad_enabled()) << "leaving the inner scope must restore the outer one's state";
  }
  EXPECT_TRUE(grad_enabled());
}

TEST(Autograd, DetachCutsTheGraph) {
  Tensor x = leaf({2}, {2.0f, 3.0f});
  Tensor frozen = (x * x).detach();
  EXPECT_FALSE(frozen.requires_grad());
  EXPECT_TRUE(frozen.is_leaf());
  EXPECT_EQ(frozen.to_host(), (std::vector<float>{4.0f, 9.0f}));
  // d/dx (frozen * x) = frozen, not 3 x^2: no gradient flows through the detached copy.
  sum(frozen * x).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{4.0f, 9.0f}));
}

TEST(Autograd, BackwardWithExplicitGradient) {
  Tensor x = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = x * 3.0f;
  y.backward(Tensor::from_host({2, 3}, {1.0f, 0.0f, -1.0f, 2.0f, 0.5f, 0.25f}));
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{3.0f, 0.0f, -3.0f, 6.0f, 1.5f, 0.75f}));
}

TEST(Autograd, BackwardWithGradientOfWrongShapeThrows) {
  Tensor x = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = x * 3.0f;
  const std::string msg = error_of([&] { y.backward(Tensor::ones({3, 2})); });
  expect_contains(msg, "[3, 2]");
  expect_contains(msg, "[2, 3]");
}

TEST(Autograd, BackwardTwiceOnFreedGraphThrows) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor loss = sum(x * x);
  loss.backward();
  const std::vector<float> first = x.grad().to_host();
  expect_contains(error_of([&] { loss.backward(); }), "freed");
  EXPECT_EQ(x.grad().to_host(), first) << "a failed backward must not touch the gradients";
}

TEST(Autograd, BackwardThroughFreedSharedIntermediateThrows) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor y = exp(x);
  Tensor a = sum(y * 2.0f);
  Tensor b = sum(y * y);
  a.backward();
  const std::vector<float> after_a = x.grad().to_host();
  const std::string msg = error_of([&] { b.backward(); });
  expect_contains(msg, "freed");
  expect_contains(msg, "exp");  // the op whose graph was freed
  EXPECT_EQ(x.grad().to_host(), after_a);
}

TEST(Autograd, OpWithoutBackwardThrowsNamingTheOp) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor out = Tensor::from_host({2}, {5.0f, 6.0f});
  record(out, "op_without_backward", {x}, BackwardFn{});
  ASSERT_TRUE(out.requires_grad());
  expect_contains(error_of([&] { sum(out).backward(); }), "op_without_backward");

  Tensor attached = Tensor::zeros({2});
  const std::vector<Tensor> inputs{x};
  attach_node(attached, "attached_without_backward", inputs, BackwardFn{});
  expect_contains(error_of([&] { sum(attached).backward(); }), "attached_without_backward");
  EXPECT_FALSE(x.grad().defined()) << "the walk fails before any gradient is touched";
}

TEST(Autograd, RecordSkipsInputsThatNeedNoGradient) {
  Tensor x = Tensor::from_host({2}, {1.0f, 2.0f});
  Tensor out = Tensor::zeros({2});
  record(out, "unneeded", {x}, BackwardFn{});
  EXPECT_FALSE(out.requires_grad());
  EXPECT_STREQ(out.producer(), "");
}

TEST(Autograd, BackwardWithoutRequiresGradThrows) {
  Tensor x = Tensor::from_host({2}, {1.0f, 2.0f});
  expect_contains(error_of([&] { sum(x * x).backward(); }), "does not require grad");
}

TEST(Autograd, ImplicitGradientNeedsOneElement) {
  Tensor x = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
  const std::string msg = error_of([&] { (x * 2.0f).backward(); });
  expect_contains(msg, "[2, 3]");
  // Any one-element shape gets the implicit 1.
  Tensor r = leaf({1, 1}, {2.0f});
  (r * 4.0f).backward();
  EXPECT_EQ(r.grad().item(), 4.0f);
}

TEST(Autograd, RequiresGradOnNonLeafThrows) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor y = x * 2.0f;
  const std::string msg = error_of([&] { y.requires_grad_(false); });
  expect_contains(msg, "leaf");
  expect_contains(msg, "affine");  // the op that made it
}

TEST(Autograd, GradientsReachOnlyInputsThatRequireThem) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor c = Tensor::from_host({2}, {3.0f, 4.0f});
  sum(x * c).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{3.0f, 4.0f}));
  EXPECT_FALSE(c.grad().defined());
}

TEST(Autograd, IntermediateGradientsAreReleased) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor y = x * 2.0f;
  sum(y).backward();
  EXPECT_FALSE(y.grad().defined()) << "only leaves keep their gradient";
  EXPECT_FALSE(y.is_leaf()) << "a freed intermediate is not a leaf either";
}
