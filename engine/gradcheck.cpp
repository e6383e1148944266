#include "engine/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace cfgan {
namespace {

// The projection weights come from their own generator, never from the inputs' seeds.
constexpr uint64_t kProjectionSeed = 0x5eed'9a7d'c4ecULL;
// The output gradient S of a second-order check, likewise.
constexpr uint64_t kOutputGradientSeed = 0x5eed'2bd0'0c4eULL;

// Comparing two analytic gradients (a second backward on top of the first, or one
// input alone vs all together): the sums may run in another order (beta = 1 GEMMs and
// col2im fold the old value in): within 1e-5 of the largest element, about 84 float ulps,
// room for a long sum's reordering.
constexpr double kRepeatRelative = 1e-5;

GradTolerance repeat_tolerance(const std::vector<double>& expected) {
  double largest = 0.0;
  for (double g : expected) largest = std::max(largest, std::fabs(g));
  return {kRepeatRelative * largest, kRepeatRelative};
}

std::vector<Tensor> fresh_copies(const std::vector<GradInput>& inputs, const std::vector<bool>& requires_grad) {
  std::vector<Tensor> copies;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& v = inputs[i].values;
    Tensor t = Tensor::from_host(v.shape(), v.to_host());
    t.requires_grad_(requires_grad[i]);
    copies.push_back(t);
  }
  return copies;
}

double project(const Tensor& out, const std::vector<double>& weights) {
  const std::vector<float> y = out.to_host();
  double total = 0.0;
  for (size_t i = 0; i < y.size(); ++i) total += weights[i] * y[i];
  return total;
}

std::vector<double> host_gradient(const Tensor& t) {
  const Tensor g = t.grad();
  if (!g.defined()) return std::vector<double>(static_cast<size_t>(t.numel()), 0.0);
  const std::vector<float> v = g.to_host();
  return std::vector<double>(v.begin(), v.end());
}

// Runs op on leaves made from `inputs` (those flagged requiring grad) and backward
// seeded with the projection weights, `times` times without zero_grad in between.
std::vector<Tensor> analytic_leaves(const OpUnderTest& op, const std::vector<GradInput>& inputs,
                                    const std::vector<bool>& requires_grad, const Tensor& weights, int times) {
  std::vector<Tensor> leaves = fresh_copies(inputs, requires_grad);
  for (int i = 0; i < times; ++i) {
    // An output that depends on no input needing a gradient (a first-order gradient of a
    // linear op, in a second-order check) has derivative zero: nothing to run.
    const Tensor out = op(leaves);
    if (out.requires_grad()) out.backward(weights);
  }
  return leaves;
}

std::vector<double> numeric_gradient(const OpUnderTest& op, const std::vector<GradInput>& inputs, size_t which,
                                     const std::vector<double>& weights) {
  NoGrad no_grad;
  std::vector<Tensor> values = fresh_copies(inputs, std::vector<bool>(inputs.size(), false));
  float* x = values[which].data();
  std::vector<double> grad(static_cast<size_t>(values[which].numel()));
  for (size_t j = 0; j < grad.size(); ++j) {
    const float original = x[j];
    // Divide by the step actually taken: x +- the step rounds to a float.
    const float plus = static_cast<float>(original + kGradCheckStep),
                minus = static_cast<float>(original - kGradCheckStep);
    x[j] = plus;
    const double l_plus = project(op(values), weights);
    x[j] = minus;
    const double l_minus = project(op(values), weights);
    x[j] = original;
    grad[j] = (l_plus - l_minus) / (static_cast<double>(plus) - static_cast<double>(minus));
  }
  return grad;
}

// Adds one line naming the worst element when any element of `actual` is off.
void expect_close(std::vector<std::string>& failures_out, const std::string& what, const std::vector<double>& actual,
                  const std::vector<double>& expected, GradTolerance tol, const char* actual_name,
                  const char* expected_name) {
  size_t failures = 0, worst = 0;
  double worst_excess = -INFINITY;
  for (size_t j = 0; j < actual.size(); ++j) {
    const double excess = std::fabs(actual[j] - expected[j]) - (tol.atol + tol.rtol * std::fabs(expected[j]));
    const bool bad = !(excess <= 0.0);  // NaN fails
    failures += bad;
    if (bad && !(excess <= worst_excess)) worst_excess = excess, worst = j;
  }
  if (failures == 0) return;
  failures_out.push_back(cat(what, ": ", failures, " of ", actual.size(), " elements differ; worst is element ", worst,
                             ": ", actual_name, " ", actual[worst], ", ", expected_name, " ", expected[worst],
                             ", |difference| ", std::fabs(actual[worst] - expected[worst]), " (atol ", tol.atol,
                             ", rtol ", tol.rtol, ")"));
}

std::string input_name(const std::string& what, size_t i, const Tensor& t) {
  std::ostringstream name;
  name << what << ", input " << i << " " << t.shape().str();
  return name.str();
}

}  // namespace

std::vector<std::string> gradient_check_failures(const std::string& what, const OpUnderTest& op,
                                                 const std::vector<GradInput>& inputs, GradTolerance tol) {
  std::vector<bool> differentiable;
  for (const GradInput& in : inputs) {
    CFGAN_CHECK(in.values.device() == Device::cpu, what, ": gradient checks run on the CPU backend, an input is on ",
                device_name(in.values.device()));
    differentiable.push_back(in.differentiable);
  }
  std::vector<std::string> failures;
  Tensor weights;
  {
    NoGrad no_grad;
    Generator projection(kProjectionSeed);
    weights = Tensor::randn(op(fresh_copies(inputs, std::vector<bool>(inputs.size(), false))).shape(), projection);
  }
  const std::vector<float> w_float = weights.to_host();
  const std::vector<double> w(w_float.begin(), w_float.end());

  const std::vector<Tensor> once = analytic_leaves(op, inputs, differentiable, weights, 1);
  const std::vector<Tensor> twice = analytic_leaves(op, inputs, differentiable, weights, 2);
  const size_t n_differentiable = std::count(differentiable.begin(), differentiable.end(), true);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!differentiable[i]) continue;
    const std::string name = input_name(what, i, inputs[i].values);
    const std::vector<double> analytic = host_gradient(once[i]);
    expect_close(failures, name, analytic, numeric_gradient(op, inputs, i, w), tol, "analytic", "numeric");

    std::vector<double> doubled = analytic;
    for (double& g : doubled) g *= 2.0;
    expect_close(failures, name + ", after two backward passes (must accumulate)", host_gradient(twice[i]), doubled,
                 repeat_tolerance(doubled), "gradient", "twice the first");

    if (n_differentiable > 1) {
      std::vector<bool> only_this(inputs.size(), false);
      only_this[i] = true;
      const std::vector<Tensor> alone = analytic_leaves(op, inputs, only_this, weights, 1);
      expect_close(failures, name + ", as the only input that needs a gradient", host_gradient(alone[i]), analytic,
                   repeat_tolerance(analytic), "gradient", "with all inputs");
    }
  }
  return failures;
}

std::vector<std::string> second_order_check_failures(const std::string& what, const OpUnderTest& op,
                                                     const std::vector<GradInput>& inputs, GradTolerance tol) {
  Tensor output_gradient;
  {
    NoGrad no_grad;
    Generator draw(kOutputGradientSeed);
    output_gradient = Tensor::randn(op(fresh_copies(inputs, std::vector<bool>(inputs.size(), false))).shape(), draw);
  }
  std::vector<bool> first_order;
  for (const GradInput& in : inputs) first_order.push_back(in.differentiable);
  const OpUnderTest gradients = [op, first_order](const std::vector<Tensor>& in) {
    EnableGrad recording;  // the numeric differences run under NoGrad, and need first-order gradients
    std::vector<Tensor> use(in.begin(), in.end() - 1), wrt;
    for (size_t j = 0; j < use.size(); ++j) {
      if (!first_order[j]) continue;
      // An input the check holds fixed still needs its first-order gradient: a leaf of its own.
      if (!use[j].requires_grad()) use[j] = use[j].detach().requires_grad_(true);
      wrt.push_back(use[j]);
    }
    std::vector<Tensor> flat;
    for (const Tensor& g : grad({sum(op(use) * in.back())}, wrt, true)) flat.push_back(reshape(g, Shape{g.numel()}));
    return concat(flat, 0);
  };
  std::vector<GradInput> with_output_gradient = inputs;
  with_output_gradient.push_back({output_gradient});
  return gradient_check_failures(what + ", second order", gradients, with_output_gradient, tol);
}

}  // namespace cfgan
