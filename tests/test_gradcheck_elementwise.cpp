// GradCheck.* for the elementwise ops: broadcasting binary ops, scalar maps, unary ops.
// Noise model for the tolerances: an output element y feeds the projection with a
// weight w ~ N(0,1); its float rounding (<= 1 ulp of y between the two evaluations)
// shows in the numerical derivative as about u |w y| / kEps = 6e-5 |w y|, and central
// differences add kEps^2 / 6 |f'''| of truncation.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// |w y| <= ~4 for O(1) outputs: rounding noise <= 2.4e-4, so atol 5e-4; truncation of
// smooth O(1) functions is 2e-7 relative, so rtol 1e-4 is slack for values near 1.
constexpr Tolerance kElementwise{5e-4, 1e-4};

// Sums over the broadcast dims add up to 3 rounding errors per gradient element.
constexpr Tolerance kBroadcast{1e-3, 1e-4};

using Binary = Tensor (*)(const Tensor&, const Tensor&);

// The broadcasting cases every binary op runs: same shape, a row vector, a
// two-sided broadcast, and a scalar-shaped [] operand on either side.
void check_binary(const char* name, Binary op, float b_lo, float b_hi) {
  struct Case {
    Shape a, b;
  };
  const Case cases[] = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{4}, {3, 4}}, {{2, 1, 5}, {3, 1}}, {{}, {2, 3}}, {{2, 3}, {}},
  };
  uint64_t seed = 100;
  for (const Case& c : cases) {
    const std::string what = std::string(name) + " " + c.a.str() + " x " + c.b.str();
    // b's range keeps div away from its pole; a is any O(1) value.
    check_gradients(what, [op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                    {{uniform(c.a, seed++, -1.5f, 1.5f)}, {uniform(c.b, seed++, b_lo, b_hi)}}, kBroadcast);
  }
}

// Values in [-1, -0.5) u [0.5, 1): |b| >= 0.5 keeps a / b and its derivatives O(1).
constexpr float kDivLo = 0.5f, kDivHi = 1.0f;

void check_unary(const std::string& what, const OpUnderTest& op, const Tensor& x, Tolerance tol = kElementwise) {
  check_gradients(what, op, {{x}}, tol);
}

}  // namespace

TEST(GradCheck, Add) { check_binary("add", add, -1.5f, 1.5f); }
TEST(GradCheck, Sub) { check_binary("sub", sub, -1.5f, 1.5f); }
TEST(GradCheck, Mul) { check_binary("mul", mul, -1.5f, 1.5f); }

TEST(GradCheck, Div) {
  check_binary("div", div, kDivLo, kDivHi);
  // Negative divisors as well, through the operator.
  check_gradients("operator/ with negative divisors", [](const std::vector<Tensor>& in) { return in[0] / in[1]; },
                  {{uniform({3, 4}, 1)}, {uniform({4}, 2, -kDivHi, -kDivLo)}}, kBroadcast);
}

TEST(GradCheck, BinaryOperators) {
  check_gradients("a + b", [](const std::vector<Tensor>& in) { return in[0] + in[1]; },
                  {{uniform({3, 4}, 1)}, {uniform({3, 1}, 2)}}, kBroadcast);
  check_gradients("a - b", [](const std::vector<Tensor>& in) { return in[0] - in[1]; },
                  {{uniform({3, 4}, 3)}, {uniform({3, 1}, 4)}}, kBroadcast);
  check_gradients("a * b", [](const std::vector<Tensor>& in) { return in[0] * in[1]; },
                  {{uniform({3, 4}, 5)}, {uniform({3, 1}, 6)}}, kBroadcast);
}

TEST(GradCheck, Affine) {
  check_unary("affine(x, 1.5, -0.25)", [](const std::vector<Tensor>& in) { return affine(in[0], 1.5f, -0.25f); },
              uniform({3, 5}, 1));
  check_unary("affine(x, -0.5, 2)", [](const std::vector<Tensor>& in) { return affine(in[0], -0.5f, 2.0f); },
              uniform({2, 3}, 2));
}

TEST(GradCheck, ScalarOperators) {
  const Tensor x = uniform({2, 3, 2}, 3);
  const std::pair<const char*, Tensor (*)(const Tensor&)> ops[] = {
      {"x + 0.5", [](const Tensor& t) { return t + 0.5f; }},  {"0.5 + x", [](const Tensor& t) { return 0.5f + t; }},
      {"x - 0.5", [](const Tensor& t) { return t - 0.5f; }},  {"0.5 - x", [](const Tensor& t) { return 0.5f - t; }},
      {"x * -1.5", [](const Tensor& t) { return t * -1.5f; }}, {"-1.5 * x", [](const Tensor& t) { return -1.5f * t; }},
      {"x / 4", [](const Tensor& t) { return t / 4.0f; }},     {"-x", [](const Tensor& t) { return -t; }},
  };
  for (const auto& [name, op] : ops) {
    check_unary(name, [op](const std::vector<Tensor>& in) { return op(in[0]); }, x);
  }
}

TEST(GradCheck, Neg) {
  check_unary("neg", [](const std::vector<Tensor>& in) { return neg(in[0]); }, uniform({3, 4}, 1));
}

TEST(GradCheck, Exp) {
  check_unary("exp", [](const std::vector<Tensor>& in) { return exp(in[0]); }, uniform({3, 4}, 1, -2.0f, 1.5f));
}

TEST(GradCheck, Log) {
  // x >= 0.5: log's derivatives grow like 1/x^k near 0.
  check_unary("log", [](const std::vector<Tensor>& in) { return log(in[0]); }, uniform({3, 4}, 1, 0.5f, 3.0f));
}

TEST(GradCheck, Sqrt) {
  check_unary("sqrt", [](const std::vector<Tensor>& in) { return sqrt(in[0]); }, uniform({3, 4}, 1, 0.5f, 3.0f));
}

TEST(GradCheck, Abs) {
  check_unary("abs", [](const std::vector<Tensor>& in) { return abs(in[0]); },
              uniform_away_from({4, 5}, 1, -1.0f, 1.0f, {0.0f}));
}

TEST(GradCheck, Square) {
  check_unary("square", [](const std::vector<Tensor>& in) { return square(in[0]); }, uniform({3, 4}, 1, -1.5f, 1.5f));
}

TEST(GradCheck, Pow) {
  check_unary("pow(x, 2.5)", [](const std::vector<Tensor>& in) { return pow(in[0], 2.5f); },
              uniform({3, 4}, 1, 0.5f, 1.5f));
  check_unary("pow(x, -1.5)", [](const std::vector<Tensor>& in) { return pow(in[0], -1.5f); },
              uniform({3, 4}, 2, 0.5f, 1.5f));
  // An integer exponent is defined for negative bases too.
  check_unary("pow(x, 3)", [](const std::vector<Tensor>& in) { return pow(in[0], 3.0f); },
              uniform({3, 4}, 3, -1.2f, 1.2f));
}

TEST(GradCheck, Clamp) {
  // About half the values fall outside [-0.4, 0.6], none within 2 kEps of either bound.
  check_unary("clamp(x, -0.4, 0.6)", [](const std::vector<Tensor>& in) { return clamp(in[0], -0.4f, 0.6f); },
              uniform_away_from({4, 5}, 1, -1.0f, 1.0f, {-0.4f, 0.6f}));
}

TEST(GradCheck, Relu) {
  check_unary("relu", [](const std::vector<Tensor>& in) { return relu(in[0]); },
              uniform_away_from({4, 5}, 1, -1.0f, 1.0f, {0.0f}));
}

TEST(GradCheck, LeakyRelu) {
  const Tensor x = uniform_away_from({4, 5}, 1, -1.0f, 1.0f, {0.0f});
  check_unary("leaky_relu default slope", [](const std::vector<Tensor>& in) { return leaky_relu(in[0]); }, x);
  check_unary("leaky_relu(x, 0.2)", [](const std::vector<Tensor>& in) { return leaky_relu(in[0], 0.2f); }, x);
}

TEST(GradCheck, Tanh) {
  check_unary("tanh", [](const std::vector<Tensor>& in) { return tanh(in[0]); }, uniform({3, 4}, 1, -2.5f, 2.5f));
}

TEST(GradCheck, Sigmoid) {
  check_unary("sigmoid", [](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, uniform({3, 4}, 1, -4.0f, 4.0f));
}

TEST(GradCheck, Softplus) {
  check_unary("softplus", [](const std::vector<Tensor>& in) { return softplus(in[0]); },
              uniform({3, 4}, 1, -4.0f, 4.0f));
  // Past the threshold 20 softplus returns x; far below it, exp(x). Values stay clear
  // of the threshold, where the float result jumps by up to 1 ulp. Outputs up to 30
  // round to 1 ulp = 1.9e-6, i.e. 1e-3 |w| in the numerical derivative.
  check_unary("softplus far from 0", [](const std::vector<Tensor>& in) { return softplus(in[0]); },
              Tensor::from_host({6}, {-25.0f, -12.0f, 18.5f, 21.0f, 25.0f, 30.0f}), {5e-3, 1e-4});
}
