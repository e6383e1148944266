// SecondOrder.*: second derivatives of every op the discriminators are built from
// (engine/gradcheck.h second_order_check_failures): the first-order gradients that a
// create_graph walk records are differentiated again and compared with central
// differences of those gradients.
//
// Noise model for the tolerances: the checked output is now a first-order gradient g, a
// sum of T products per element; its float rounding, about u sqrt(T) |g| per element
// with u = 6e-8, enters the numerical derivative divided by 2 kEps = 2e-3, and the
// projection adds up such errors over the elements each input moves. Values are O(1).
#include <gtest/gtest.h>

#include <memory>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// Elementwise ops: a gradient element is one or two products, O(1): 1 ulp (1.2e-7) over
// 2e-3 is 6e-5 per element, a few elements per input after broadcasting sums.
constexpr Tolerance kElementwise{1e-3, 1e-4};

// Matrix products and convolutions: gradient elements sum up to 48 products (|g| ~ 2),
// ~sqrt(48) ulps, i.e. ~1e-3 in the difference quotient, and an input element moves up to
// ~70 of them.
constexpr Tolerance kProducts{5e-3, 2e-4};

// Training batch norm: dx couples all M = N*H*W values of a channel through two means,
// each term O(1 / sigma): rounding of ~sqrt(M) ulps of values up to ~5, over 2e-3.
constexpr Tolerance kBatchNormTrain{5e-3, 5e-4};

// The square of eval batch norm's output (|y| up to ~5): the first-order gradients carry
// the output, 2 y gamma / sigma, and gamma's sums 12 of them, reaching |g| ~ 50; 1 ulp of
// that over 2e-3 is ~2e-3. (Observed: 1.3e-3 at |g| = 2.8 for the output gradient's part.)
constexpr Tolerance kSquared{5e-3, 1.5e-3};

void check(const std::string& what, const OpUnderTest& op, const std::vector<GradInput>& inputs, Tolerance tol) {
  check_second_order(what, op, inputs, tol);
}

}  // namespace

TEST(SecondOrder, BinaryOps) {
  const Shape a_shapes[] = {{3, 4}, {3, 4}, {2, 1, 5}};
  const Shape b_shapes[] = {{3, 4}, {4}, {3, 1}};
  uint64_t seed = 1;
  for (int c = 0; c < 3; ++c) {
    const std::vector<GradInput> in{{uniform(a_shapes[c], seed++, -1.5f, 1.5f)},
                                    {uniform(b_shapes[c], seed++, 0.5f, 1.0f)}};
    const std::string shapes = " " + a_shapes[c].str() + " x " + b_shapes[c].str();
    check(
        "add" + shapes, [](const std::vector<Tensor>& x) { return x[0] + x[1]; }, in, kElementwise);
    check(
        "sub" + shapes, [](const std::vector<Tensor>& x) { return x[0] - x[1]; }, in, kElementwise);
    check(
        "mul" + shapes, [](const std::vector<Tensor>& x) { return x[0] * x[1]; }, in, kElementwise);
    check(
        "div" + shapes, [](const std::vector<Tensor>& x) { return x[0] / x[1]; }, in, kElementwise);
  }
}

TEST(SecondOrder, UnaryOps) {
  using Unary = Tensor (*)(const Tensor&);
  const Tensor x = uniform({3, 5}, 11, -2.0f, 2.0f), positive = uniform({3, 5}, 12, 0.5f, 2.0f);
  const std::pair<const char*, Unary> smooth[] = {{"neg", neg},         {"exp", exp},           {"tanh", tanh},
                                                  {"sigmoid", sigmoid}, {"softplus", softplus}, {"square", square}};
  for (const auto& [name, op] : smooth) {
    check(
        name, [op](const std::vector<Tensor>& in) { return op(in[0]); }, {{x}}, kElementwise);
  }
  check(
      "log", [](const std::vector<Tensor>& in) { return log(in[0]); }, {{positive}}, kElementwise);
  check(
      "sqrt", [](const std::vector<Tensor>& in) { return sqrt(in[0]); }, {{positive}}, kElementwise);
  check(
      "pow 2.5", [](const std::vector<Tensor>& in) { return pow(in[0], 2.5f); }, {{positive}}, kElementwise);
  check(
      "affine", [](const std::vector<Tensor>& in) { return 1.0f - 3.0f * in[0]; }, {{x}}, kElementwise);
  // Piecewise-linear ops: the second derivative is zero away from the kinks.
  const Tensor away = uniform_away_from({3, 5}, 13, -2.0f, 2.0f, {-0.5f, 0.0f, 1.0f});
  check(
      "abs", [](const std::vector<Tensor>& in) { return abs(in[0]); }, {{away}}, kElementwise);
  check(
      "relu", [](const std::vector<Tensor>& in) { return relu(in[0]); }, {{away}}, kElementwise);
  check(
      "leaky_relu 0.2", [](const std::vector<Tensor>& in) { return leaky_relu(in[0], 0.2f); }, {{away}}, kElementwise);
  check(
      "clamp", [](const std::vector<Tensor>& in) { return clamp(in[0], -0.5f, 1.0f); }, {{away}}, kElementwise);
  // A smooth function of a kinked one, so that the second derivative is not zero.
  check(
      "square(leaky_relu)", [](const std::vector<Tensor>& in) { return square(leaky_relu(in[0], 0.1f)); }, {{away}},
      kElementwise);
}

TEST(SecondOrder, Reductions) {
  const Tensor x = uniform({2, 3, 4}, 21);
  // sum and mean are linear: a second-order check sees their backward's dependence on
  // the output gradient; the square makes the inputs' part non-zero.
  check(
      "sum", [](const std::vector<Tensor>& in) { return sum(square(in[0])); }, {{x}}, kElementwise);
  check(
      "mean", [](const std::vector<Tensor>& in) { return mean(square(in[0])); }, {{x}}, kElementwise);
  check(
      "sum dims {0, 2}",
      [](const std::vector<Tensor>& in) {
        return sum(square(in[0]), {0, 2});
      },
      {{x}}, kElementwise);
  check(
      "mean dim 1 keepdim", [](const std::vector<Tensor>& in) { return mean(in[0] * in[0], {1}, true); }, {{x}},
      kElementwise);
  check(
      "broadcast_to",
      [](const std::vector<Tensor>& in) {
        return square(broadcast_to(in[0], Shape{2, 3, 4}));
      },
      {{uniform({3, 1}, 22)}}, kElementwise);
}

TEST(SecondOrder, ShapeOps) {
  const Tensor x = uniform({2, 3, 4}, 31);
  check(
      "reshape",
      [](const std::vector<Tensor>& in) {
        return square(reshape(in[0], {4, 6}));
      },
      {{x}}, kElementwise);
  check(
      "permute",
      [](const std::vector<Tensor>& in) {
        return square(permute(in[0], {2, 0, 1}));
      },
      {{x}}, kElementwise);
  check(
      "narrow dim 0", [](const std::vector<Tensor>& in) { return square(narrow(in[0], 0, 1, 1)); }, {{x}},
      kElementwise);
  check(
      "narrow dim 2", [](const std::vector<Tensor>& in) { return square(narrow(in[0], 2, 1, 2)); }, {{x}},
      kElementwise);
  check(
      "concat dim 1",
      [](const std::vector<Tensor>& in) {
        return square(concat({in[0], in[1]}, 1));
      },
      {{x}, {uniform({2, 2, 4}, 32)}}, kElementwise);
}

TEST(SecondOrder, MatrixProducts) {
  check(
      "matmul (4,3)x(3,5)", [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
      {{uniform({4, 3}, 41)}, {uniform({3, 5}, 42)}}, kProducts);
  check(
      "matmul (2,4,3)x(2,3,5)", [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
      {{uniform({2, 4, 3}, 43)}, {uniform({2, 3, 5}, 44)}}, kProducts);
  check(
      "matmul (2,4,3)x(3,5)", [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
      {{uniform({2, 4, 3}, 45)}, {uniform({3, 5}, 46)}}, kProducts);
  check(
      "linear with bias", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
      {{uniform({5, 7}, 47)}, {uniform({3, 7}, 48)}, {uniform({3}, 49)}}, kProducts);
  check(
      "linear (2,3,7) without bias", [](const std::vector<Tensor>& in) { return linear(in[0], in[1]); },
      {{uniform({2, 3, 7}, 50)}, {uniform({3, 7}, 51)}}, kProducts);
  // A product of products: the second derivative in the inputs is not zero.
  check(
      "square(linear)", [](const std::vector<Tensor>& in) { return square(linear(in[0], in[1], in[2])); },
      {{uniform({5, 7}, 52)}, {uniform({3, 7}, 53)}, {uniform({3}, 54)}}, kProducts);
}

TEST(SecondOrder, Convolutions) {
  uint64_t seed = 61;
  for (int64_t stride : {1, 2}) {
    for (int64_t padding : {0, 1}) {
      const Conv2dOptions opt{.stride = stride, .padding = padding};
      const std::string how = cat(" stride ", stride, " padding ", padding);
      check(
          "conv2d" + how, [opt](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], opt); },
          {{uniform({2, 2, 5, 6}, seed++)}, {uniform({3, 2, 3, 3}, seed++)}, {uniform({3}, seed++)}}, kProducts);
      // A smooth function of the convolution (a kink, as in leaky_relu, would be crossed by
      // the differences somewhere among its outputs), so the second derivative is not zero.
      check(
          "tanh(conv2d)" + how,
          [opt](const std::vector<Tensor>& in) { return tanh(conv2d(in[0], in[1], Tensor(), opt)); },
          {{uniform({2, 2, 5, 6}, seed++)}, {uniform({3, 2, 4, 4}, seed++)}}, kProducts);
      check(
          "conv_transpose2d" + how,
          [opt](const std::vector<Tensor>& in) { return conv_transpose2d(in[0], in[1], in[2], opt); },
          {{uniform({2, 3, 4, 3}, seed++)}, {uniform({3, 2, 3, 3}, seed++)}, {uniform({2}, seed++)}}, kProducts);
    }
  }
  // Two convolutions in a row: the second derivative reaches the conv products' own backwards.
  check(
      "conv2d(square(conv2d))",
      [](const std::vector<Tensor>& in) {
        const Conv2dOptions opt{.stride = 2, .padding = 1};
        return conv2d(square(conv2d(in[0], in[1], Tensor(), opt)), in[2], Tensor(), opt);
      },
      {{uniform({2, 1, 6, 6}, seed++)}, {uniform({2, 1, 4, 4}, seed++)}, {uniform({2, 2, 3, 3}, seed++)}}, kProducts);
}

TEST(SecondOrder, BatchNorm) {
  const std::vector<GradInput> in_2d{
      {uniform({6, 3}, 71, -1.0f, 2.0f)}, {uniform({3}, 72, 0.5f, 1.5f)}, {uniform({3}, 73)}};
  const std::vector<GradInput> in_4d{
      {uniform({2, 3, 2, 3}, 74, -1.0f, 2.0f)}, {uniform({3}, 75, 0.5f, 1.5f)}, {uniform({3}, 76)}};
  for (const auto* in : {&in_2d, &in_4d}) {
    const std::string shape = (*in)[0].values.shape().str();
    check(
        "batch_norm train " + shape,
        [](const std::vector<Tensor>& x) { return batch_norm(x[0], x[1], x[2], Tensor(), Tensor(), true); }, *in,
        kBatchNormTrain);
    check(
        "batch_norm train without gamma, beta " + shape,
        [](const std::vector<Tensor>& x) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
        {(*in)[0]}, kBatchNormTrain);
    const Tensor running_mean = uniform({3}, 77, -0.5f, 0.5f), running_var = uniform({3}, 78, 0.5f, 2.0f);
    check(
        "square(batch_norm eval) " + shape,
        [=](const std::vector<Tensor>& x) {
          return square(batch_norm(x[0], x[1], x[2], running_mean, running_var, false));
        },
        *in, kSquared);
  }
}

TEST(SecondOrder, Losses) {
  const Tensor logits = uniform({4, 5}, 81, -3.0f, 3.0f), target = uniform({4, 5}, 82, 0.0f, 1.0f);
  check(
      "bce_with_logits", [](const std::vector<Tensor>& in) { return bce_with_logits(in[0], in[1]); },
      {{logits}, {target}}, kElementwise);
  const Tensor away = uniform_away_from({8}, 83, -3.0f, 3.0f, {-1.0f, 1.0f});
  check(
      "hinge", [](const std::vector<Tensor>& in) { return mean(relu(1.0f - in[0])) + mean(relu(1.0f + in[0])); },
      {{away}}, kElementwise);
  check(
      "mse_loss", [](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1]); }, {{logits}, {target}},
      kElementwise);
  check(
      "cross_entropy",
      [](const std::vector<Tensor>& in) {
        return cross_entropy(in[0], {0, 4, 2, 2});
      },
      {{logits}}, kElementwise);
  check(
      "softmax", [](const std::vector<Tensor>& in) { return softmax(in[0], 1); }, {{logits}}, kElementwise);
  check(
      "log_softmax dim 0", [](const std::vector<Tensor>& in) { return log_softmax(in[0], 0); }, {{logits}},
      kElementwise);
}

TEST(SecondOrder, SpectralNormPath) {
  // The spectral-norm layer in eval mode (fixed u, v), weight_orig taken from the input:
  // conv2d(x, W / (u^T W v)) with W's dependence through sigma recorded.
  const Tensor u = uniform({3}, 91), v = uniform({2 * 3 * 3}, 92);
  check(
      "spectral-norm conv2d",
      [u, v](const std::vector<Tensor>& in) {
        manual_seed(93);
        SpectralNorm layer(std::make_shared<Conv2d>(2, 3, 3, Conv2dOptions{.stride = 2, .padding = 1}));
        layer.eval();
        layer.weight_orig = in[1];
        layer.weight_u = u;
        layer.weight_v = v;
        return square(layer.forward(in[0]));
      },
      {{uniform({2, 2, 5, 5}, 94)}, {uniform({3, 2, 3, 3}, 95)}}, kProducts);
}

TEST(SecondOrder, UnsupportedOpNamesItself) {
  // max's backward is not differentiable yet: the first-order gradient is right, and
  // differentiating it again is an error that names the op.
  Tensor x = Tensor::from_host({3}, {1.0f, 3.0f, 2.0f});
  x.requires_grad_(true);
  const Tensor g = grad({max(square(x))}, {x}, true)[0];
  EXPECT_EQ(g.to_host(), (std::vector<float>{0.0f, 6.0f, 0.0f}));
  try {
    sum(g).backward();
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the backward of op 'max' is not differentiable"), std::string::npos)
        << e.what();
  }
}
