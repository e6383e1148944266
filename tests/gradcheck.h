// Finite-difference gradient checks (DESIGN.md, correctness ladder step 1), after
// dlib's and ggml's: the op's output is reduced to a scalar with a fixed random
// projection L = sum(out * W); backward() seeded with W gives dL/d input, and central
// differences of L, evaluated in double on the host, give the same derivative for
// every element of every differentiable input. The harness also checks that backward
// ACCUMULATES (a second forward + backward without zero_grad doubles the gradient)
// and that each input's gradient is the same when it is the only one that needs one
// (the `grads.needs(i)` paths of a backward).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace cfgan::testing {

// Step of the central differences. The forward runs in float32 (unit roundoff
// u = 6e-8): a rounding error of u * |L| in each of L(x + h), L(x - h) becomes
// u * |L| / h in the quotient, while the truncation error of central differences is
// h^2 / 6 * |L'''|. h = 1e-3 keeps both near 1e-5..1e-4 for the O(1) values used here
// (the optimum, u^(1/3), is 4e-3; a smaller h keeps perturbations clear of kinks).
constexpr double kEps = 1e-3;

// An element passes when |analytic - numeric| <= atol + rtol * |numeric|. Each test
// states its own pair with the reason (the rounding noise of its forward, chiefly).
struct Tolerance {
  double atol;
  double rtol;
};

struct GradInput {
  Tensor values;               // the input's values (CPU); the harness makes its own leaves
  bool differentiable = true;  // false: held fixed and given no gradient
};

// Builds the op's output from its inputs. Called many times, each on a fresh graph,
// so it must be a pure function of the inputs (re-create a Generator inside).
using OpUnderTest = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// Runs every check above; failures name `what`, the input, the element and both values.
void check_gradients(const std::string& what, const OpUnderTest& op, const std::vector<GradInput>& inputs,
                     Tolerance tol);

// ---- inputs ----
// Uniform in [lo, hi), from Generator(seed).
Tensor uniform(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// Uniform in [lo, hi) with every value more than 2 * kEps from each kink (values that
// land closer are redrawn), so x +- kEps never crosses a kink.
Tensor uniform_away_from(const Shape& shape, uint64_t seed, float lo, float hi, const std::vector<float>& kinks);
// A shuffled grid {start, start + step, ...}: all values distinct and at least `step`
// apart, so a perturbation of kEps never changes which element is the maximum.
Tensor distinct_values(const Shape& shape, uint64_t seed, float start = -1.0f, float step = 0.05f);

}  // namespace cfgan::testing
