// Finite-difference gradient checks (DESIGN.md, correctness ladder step 1) for any
// differentiable function of tensors: the engine's own ops in the tests, and the ops a
// program adds with its own backward (tests/consumer/custom_op.cpp).
//
// The function's output is reduced to a scalar with a fixed random projection
// L = sum(out * W); backward() seeded with W gives dL/d input, and central differences of
// L, evaluated in double on the host, give the same derivative for every element of every
// differentiable input. The check also verifies that backward ACCUMULATES (a second
// forward + backward without zero_grad doubles the gradient) and that each input's
// gradient is the same when it is the only one that needs one (the `grads.needs(i)`
// paths of a backward).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace cfgan {

// Step of the central differences. The forward runs in float32 (unit roundoff
// u = 6e-8): a rounding error of u * |L| in each of L(x + h), L(x - h) becomes
// u * |L| / h in the quotient, while the truncation error of central differences is
// h^2 / 6 * |L'''|. h = 1e-3 keeps both near 1e-5..1e-4 for O(1) values (the optimum,
// u^(1/3), is 4e-3; a smaller h keeps perturbations clear of kinks).
constexpr double kGradCheckStep = 1e-3;

// An element passes when |analytic - numeric| <= atol + rtol * |numeric|. Choose the pair
// from the rounding noise of the function's forward.
struct GradTolerance {
  double atol;
  double rtol;
};

struct GradInput {
  Tensor values;               // the input's values (CPU); the check makes its own leaves
  bool differentiable = true;  // false: held fixed and given no gradient
};

// Builds the output from the inputs. Called many times, each on a fresh graph, so it
// must be a pure function of the inputs (re-create a Generator inside).
using OpUnderTest = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// Runs every check above on the CPU; returns one line per failed check, naming `what`,
// the input, the number of elements off and the worst one with both values. Empty: all
// pass.
std::vector<std::string> gradient_check_failures(const std::string& what, const OpUnderTest& op,
                                                 const std::vector<GradInput>& inputs, GradTolerance tol);

// Second derivatives, by the same checks one order up: the output under test becomes the
// first-order gradients grad(..., create_graph) gives of L = sum(op(inputs) * S), every
// differentiable input's gradient flattened and joined, as a function of the inputs and
// of S (a fixed random tensor of op's output shape, one more input). Their analytic
// derivatives run through the recorded backward; the numeric ones are central
// differences of the first-order gradients. The S part checks that each backward
// records its dependence on the output gradient, the others its dependence on the inputs.
std::vector<std::string> second_order_check_failures(const std::string& what, const OpUnderTest& op,
                                                     const std::vector<GradInput>& inputs, GradTolerance tol);

}  // namespace cfgan
