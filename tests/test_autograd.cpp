// Autograd.*: the tape's contract (engine/autograd.h): gradients accumulate (the first
// one written, not added to zeros), NoGrad and detach() keep ops off the tape, and misuse
// is an Error that says what went wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "engine/storage.h"

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
    { NoGrad inner; }
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

// ---- grad() and create_graph ----

TEST(Autograd, GradReturnsGradientsAndLeavesGradAlone) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor w = leaf({2}, {3.0f, 4.0f});
  sum(x * 10.0f).backward();  // an earlier gradient grad() must not touch
  const std::vector<Tensor> g = grad({sum(x * w)}, {x});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].to_host(), (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{10.0f, 10.0f}));
  EXPECT_FALSE(w.grad().defined()) << "only the asked-for inputs get a gradient";
}

TEST(Autograd, GradOfAnIntermediateStopsThere) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  const Tensor y = x * 3.0f;
  const Tensor g = grad({sum(y * y)}, {y})[0];
  EXPECT_EQ(g.to_host(), (std::vector<float>{6.0f, 12.0f}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, GradWithOutputGradientsAndSeveralOutputs) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  const Tensor a = x * 2.0f, b = square(x);
  const std::vector<Tensor> g =
      grad({a, b}, {x}, false, {Tensor::from_host({2}, {1.0f, 1.0f}), Tensor::from_host({2}, {1.0f, -1.0f})});
  EXPECT_EQ(g[0].to_host(), (std::vector<float>{4.0f, -2.0f}));  // 2 + 2x * (1, -1)
}

TEST(Autograd, GradOfUnusedInputThrows) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor unused = leaf({1}, {1.0f});
  expect_contains(error_of([&] { grad({sum(x * x)}, {x, unused}); }), "input 1 [1] is not reached");
  Tensor constant = Tensor::from_host({1}, {1.0f});
  expect_contains(error_of([&] { grad({sum(x * x)}, {constant}); }), "input 0 does not require grad");
}

TEST(Autograd, SecondDerivativeOfACube) {
  Tensor x = leaf({3}, {1.0f, -2.0f, 0.5f});
  const Tensor y = sum(x * x * x);
  const Tensor dy = grad({y}, {x}, true)[0];  // 3 x^2
  EXPECT_EQ(dy.to_host(), (std::vector<float>{3.0f, 12.0f, 0.75f}));
  ASSERT_TRUE(dy.requires_grad()) << "create_graph records the backward";
  const Tensor d2y = grad({sum(dy)}, {x}, true)[0];  // 6 x
  EXPECT_EQ(d2y.to_host(), (std::vector<float>{6.0f, -12.0f, 3.0f}));
  const Tensor d3y = grad({sum(d2y)}, {x})[0];  // 6
  EXPECT_EQ(d3y.to_host(), (std::vector<float>{6.0f, 6.0f, 6.0f}));
}

TEST(Autograd, CreateGraphKeepsTheForwardGraph) {
  // The R1 pattern: a penalty on the input gradient, and the forward's own loss, both
  // differentiated afterwards through the one forward graph.
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor w = leaf({2}, {0.5f, -1.0f});
  const Tensor out = sum(square(x * w));        // sum (x w)^2
  const Tensor gx = grad({out}, {x}, true)[0];  // 2 x w^2
  const Tensor total = sum(square(gx)) + out;   // sum 4 x^2 w^4 + sum x^2 w^2
  total.backward();
  // d/dw: 16 x^2 w^3 + 2 x^2 w = (2 + 1, -64 - 8)
  EXPECT_EQ(w.grad().to_host(), (std::vector<float>{3.0f, -72.0f}));
  expect_contains(error_of([&] { total.backward(); }), "already freed");
}

TEST(Autograd, GradWithoutCreateGraphFreesTheGraph) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  const Tensor out = sum(square(x));
  const Tensor g = grad({out}, {x})[0];
  EXPECT_FALSE(g.requires_grad());
  expect_contains(error_of([&] { out.backward(); }), "already freed");
}

TEST(Autograd, BackwardWithCreateGraphGivesLeavesDifferentiableGradients) {
  Tensor x = leaf({2}, {1.0f, 2.0f});
  sum(x * x * x).backward(true);
  const Tensor g = x.grad();  // 3 x^2, with a graph
  ASSERT_TRUE(g.requires_grad());
  x.zero_grad();  // the gradient's graph refers to x: dropping it breaks the cycle
  sum(g).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{6.0f, 12.0f}));
  EXPECT_EQ(g.to_host(), (std::vector<float>{3.0f, 12.0f})) << "a later backward must not add into it";
}

TEST(Autograd, BackwardWithCreateGraphGivesEachLeafItsOwnGradient) {
  // x + w gives both the seed as their gradient; each leaf must own a copy, or a later
  // backward adding into one would change the other.
  Tensor x = leaf({2}, {1.0f, 2.0f});
  Tensor w = leaf({2}, {3.0f, 4.0f});
  const Tensor seed = Tensor::from_host({2}, {1.0f, 1.0f});
  (x + w).backward(seed, true);
  sum(x * 5.0f).backward();
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{6.0f, 6.0f}));
  EXPECT_EQ(w.grad().to_host(), (std::vector<float>{1.0f, 1.0f}));
  EXPECT_EQ(seed.to_host(), (std::vector<float>{1.0f, 1.0f}));
}

// The first gradient a buffer receives is written instead of added to a zero fill
// (GradSink::target), later ones are added. The caching allocator hands out recycled
// blocks, so before each backward every block of the sizes involved is NaN: an element
// a first write missed stays NaN. Using the op twice must double every gradient: exactly
// where the second use adds its finished result, within a few float roundings where it
// adds term by term (col2im sums each term into the first use's total: another order of
// summation, so 1e-5 relative, for sums of ~50 terms of order 1).
TEST(Autograd, FirstGradientIsWrittenLaterOnesAdd) {
  using Leaves = std::vector<Tensor>;
  struct Case {
    const char* name;
    std::vector<Shape> shapes;
    std::function<Tensor(const Leaves&)> f;
  };
  const Conv2dOptions same{1, 1, 0}, up{2, 1, 0};
  const std::vector<Case> cases = {
      {"linear", {{4, 12}, {6, 12}, {6}}, [](const Leaves& v) { return linear(v[0], v[1], v[2]); }},
      {"matmul", {{3, 5}, {5, 4}}, [](const Leaves& v) { return matmul(v[0], v[1]); }},
      {"reshape", {{2, 3, 4}}, [](const Leaves& v) { return reshape(v[0], Shape{6, 4}); }},
      {"leaky_relu", {{3, 7}}, [](const Leaves& v) { return leaky_relu(v[0], 0.2f); }},
      {"batch_norm",
       {{4, 3, 5, 5}, {3}, {3}},
       [](const Leaves& v) { return batch_norm(v[0], v[1], v[2], Tensor(), Tensor(), true, 0.1f, 1e-5f); }},
      {"conv2d", {{2, 3, 8, 8}, {4, 3, 3, 3}, {4}}, [&](const Leaves& v) { return conv2d(v[0], v[1], v[2], same); }},
      {"conv_transpose2d",
       {{2, 4, 5, 5}, {4, 3, 4, 4}, {3}},
       [&](const Leaves& v) { return conv_transpose2d(v[0], v[1], v[2], up); }},
  };
  Generator gen(11);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Leaves leaves;
    for (const Shape& s : c.shapes) leaves.push_back(Tensor::randn(s, gen).requires_grad_(true));
    const Tensor weights = Tensor::randn(c.f(leaves).shape(), gen);
    std::vector<int64_t> sizes{weights.numel()};
    for (const Tensor& t : leaves) sizes.push_back(t.numel());
    std::vector<std::vector<std::vector<float>>> grads;  // [uses - 1][leaf]
    for (int uses = 1; uses <= 2; ++uses) {
      Allocator::get(Device::cpu).empty_cache();
      {
        std::vector<Tensor> poison;
        for (const int64_t n : sizes) {
          for (int i = 0; i < 8; ++i) poison.push_back(Tensor::full(Shape{n}, NAN));
        }
      }
      for (Tensor& t : leaves) t.zero_grad();
      Tensor loss = sum(c.f(leaves) * weights);
      if (uses == 2) loss = loss + sum(c.f(leaves) * weights);
      loss.backward();
      grads.emplace_back();
      for (const Tensor& t : leaves) grads.back().push_back(t.grad().to_host());
    }
    for (size_t l = 0; l < leaves.size(); ++l) {
      for (size_t i = 0; i < grads[0][l].size(); ++i) {
        ASSERT_TRUE(std::isfinite(grads[0][l][i])) << "leaf " << l << " element " << i;
        const float doubled = 2.0f * grads[0][l][i];
        ASSERT_NEAR(grads[1][l][i], doubled, 1e-5f * std::max(1.0f, std::fabs(doubled)))
            << "leaf " << l << " element " << i;
      }
    }
  }
}
