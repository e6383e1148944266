// Adding an op to cfgan from outside: SiLU, x * sigmoid(x), with its own backward.
//
// Composed from public ops it would already differentiate, but its tape would hold three
// nodes and two intermediate tensors per call. As one op it records one node that keeps
// only x, and its backward computes d/dx = s (1 + x (1 - s)), s = sigmoid(x), in one go.
// The gradient checker (engine/gradcheck.h) compares that backward with finite
// differences; this program exits non-zero if it disagrees.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/engine.h"

using namespace cfgan;

Tensor silu(const Tensor& x) {
  Tensor out;
  {
    NoGrad no_tape;  // the forward's own ops record nothing
    out = x * sigmoid(x);
  }
  record(out, "silu", {x}, [x = x.detach()](const Tensor& grad_out, GradSink& grads) {
    // Backward closures run with recording off: these ops only compute.
    const Tensor s = sigmoid(x);
    grads.add(0, grad_out * s * (1.0f + x * (1.0f - s)));
  });
  return out;
}

int main() try {
  Generator gen(7);
  const Tensor x = Tensor::randn({4, 5}, gen, Device::cpu, 0.0f, 1.5f);

  // The new op, checked like the engine's own. L sums 20 products of O(1) values: its
  // float rounding is ~1e-6, ~5e-4 after dividing by the 2e-3 step of the differences, so
  // 2e-3 absolute (plus 1e-3 relative) passes a right backward; a wrong formula is off
  // by O(0.1) (dropping the x (1 - s) term costs up to 0.5 per element).
  const auto failures =
      gradient_check_failures("silu", [](const std::vector<Tensor>& in) { return silu(in[0]); }, {{x}}, {2e-3, 1e-3});
  for (const auto& f : failures) std::fprintf(stderr, "custom_op: %s\n", f.c_str());

  // The same values and gradients as the composed version.
  Tensor a = Tensor::from_host(x.shape(), x.to_host()).requires_grad_();
  Tensor b = Tensor::from_host(x.shape(), x.to_host()).requires_grad_();
  const Tensor ya = silu(a), yb = b * sigmoid(b);
  sum(ya).backward();
  sum(yb).backward();
  float worst = 0.0f;
  const auto va = ya.to_host(), vb = yb.to_host(), ga = a.grad().to_host(), gb = b.grad().to_host();
  for (size_t i = 0; i < va.size(); ++i) worst = std::max({worst, std::abs(va[i] - vb[i]), std::abs(ga[i] - gb[i])});
  std::printf("custom_op: silu's gradient check: %s; largest difference from the composed op: %.2g\n",
              failures.empty() ? "passed" : "FAILED", worst);
  return failures.empty() && worst < 1e-5f ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "custom_op: %s\n", e.what());
  return 1;
}
