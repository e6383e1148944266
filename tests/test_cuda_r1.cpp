// CudaParity.R1Penalty: the R1 penalty's value, its input gradient and its gradient
// w.r.t. every parameter of the DCGAN and SNGAN discriminators (a second backward through
// conv2d, batch norm, leaky_relu, linear and spectral norm) on the CUDA backend equal the
// CPU backend's.
#include "engine/engine.h"
#include "models/gan.h"
#include "models/gan_loss.h"
#include "tests/cuda_parity.h"
#include "tests/golden_util.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct R1Result {
  float r1 = 0;
  Tensor input_grad;
  NamedTensors grads;
};

R1Result r1_on(const std::string& discriminator, Device device) {
  GanSpec spec;
  spec.discriminator = discriminator;
  spec.width = 8;
  manual_seed(5);
  auto d = make_discriminator(spec);
  hashed_init(*d);
  d->to(device);
  Generator data(6);
  Tensor real = Tensor::rand({4, 1, 28, 28}, data, Device::cpu, -1.0f, 1.0f).to(device);
  real.requires_grad_(true);
  const Tensor logits = d->score(real, {});
  R1Result out;
  out.input_grad = grad({sum(logits)}, {real}, true)[0].to(Device::cpu);
  const Tensor r1 = r1_penalty(logits, real, 10.0f);
  r1.backward();
  out.r1 = r1.item();
  for (auto& [name, p] : d->named_parameters()) {
    out.grads.emplace_back(name, p.grad().defined() ? p.grad().to(Device::cpu) : Tensor::zeros(p.shape()));
  }
  return out;
}

}  // namespace

TEST_P(CudaParity, R1Penalty) {
  const UseCudaKernels scope(cuda());
  for (const std::string discriminator : {"dcgan", "sngan"}) {
    const R1Result expected = r1_on(discriminator, Device::cpu), actual = r1_on(discriminator, Device::cuda);
    // Sums over the same products in another order (tiled GEMMs, tree reductions): the
    // tolerances of Golden.R1*, which hold against PyTorch too.
    EXPECT_NEAR(actual.r1, expected.r1, 1e-5 * expected.r1) << discriminator;
    EXPECT_LE(norm_relative_error(actual.input_grad, expected.input_grad), 1e-5) << discriminator;
    for (size_t i = 0; i < expected.grads.size(); ++i) {
      const auto& [name, e] = expected.grads[i];
      const double relative = norm_relative_error(actual.grads[i].second, e);
      // A gradient that is zero on the CPU (a bias before batch norm) must be zero here too.
      EXPECT_LE(relative, 1e-4) << discriminator << " d R1 / d " << name;
      std::printf("%s d R1 / d %-24s norm-relative %.2e\n", discriminator.c_str(), name.c_str(), relative);
    }
  }
}
