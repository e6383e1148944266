// CudaParity.DcganThreeSteps: three training steps of the reference DCGAN through the
// engine on the CUDA backend equal the same steps on the CPU backend.
#include <cmath>

#include "engine/engine.h"
#include "engine/storage.h"
#include "models/gan_trainer.h"
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct Gan {
  std::shared_ptr<GanGenerator> g;
  std::shared_ptr<GanDiscriminator> d;
  std::unique_ptr<Adam> opt_g, opt_d;
};

constexpr float kLr = 2e-4f;
// Adam moves an element by lr |m_hat| / sqrt(v_hat): with beta1 0.5 and beta2 0.999 at most 1,
// 1.054 and 1.134 lr in the first three steps (Cauchy-Schwarz over the bias-corrected averages'
// weights); two runs whose gradients differ in sign can part by twice that per step.
constexpr double kAdamSpread = 2 * (1.0 + 1.054 + 1.134) * kLr;

Gan make_gan(Device device) {
  GanSpec spec;  // the reference DCGAN
  manual_seed(3);
  Gan gan{make_generator(spec), make_discriminator(spec), nullptr, nullptr};
  Generator init(3);
  dcgan_init(*gan.g, init);
  dcgan_init(*gan.d, init);
  gan.g->to(device);
  gan.d->to(device);
  gan.opt_g = std::make_unique<Adam>(gan.g->named_parameters(), AdamOptions{.lr = kLr, .beta1 = 0.5f});
  gan.opt_d = std::make_unique<Adam>(gan.d->named_parameters(), AdamOptions{.lr = kLr, .beta1 = 0.5f});
  return gan;
}

}  // namespace

TEST_P(CudaParity, DcganThreeSteps) {
  const UseCudaKernels scope(cuda());
  {
    Gan on_cpu = make_gan(Device::cpu), on_cuda = make_gan(Device::cuda);
    Generator data(4);
    for (int step = 0; step < 3; ++step) {
      const Tensor real = Tensor::rand({8, 1, 28, 28}, data, Device::cpu, -1.0f, 1.0f);
      const Tensor z = Tensor::randn({8, 100}, data);
      const GanStepStats a =
          gan_train_step(*on_cpu.g, *on_cpu.d, *on_cpu.opt_g, *on_cpu.opt_d, GanLoss::bce, real, z, {});
      const GanStepStats b = gan_train_step(*on_cuda.g, *on_cuda.d, *on_cuda.opt_g, *on_cuda.opt_d, GanLoss::bce,
                                            real.to(Device::cuda), z.to(Device::cuda), {});
      // The 1e-4 relative: the losses are sums over the batch of the same products
      // whose summation order differs between the backends (see the parameter check below).
      EXPECT_NEAR(b.d_loss, a.d_loss, 1e-4 * std::fabs(a.d_loss)) << "step " << step;
      EXPECT_NEAR(b.g_loss, a.g_loss, 1e-4 * std::fabs(a.g_loss)) << "step " << step;
    }
    for (auto [name, cpu_model, cuda_model] :
         {std::tuple<const char*, Module*, Module*>{"G", on_cpu.g.get(), on_cuda.g.get()},
          {"D", on_cpu.d.get(), on_cuda.d.get()}}) {
      const NamedTensors expected = cpu_model->state_dict(), actual = cuda_model->state_dict();
      ASSERT_EQ(expected.size(), actual.size());
      for (size_t t = 0; t < expected.size(); ++t) {
        const std::vector<float> e = expected[t].second.to_host(), a = actual[t].second.to_host();
        double diff2 = 0, ref2 = 0;
        size_t off = 0, beyond_adam = 0;
        for (size_t i = 0; i < e.size(); ++i) {
          const double d = std::fabs(double(a[i]) - e[i]);
          diff2 += d * d;
          ref2 += double(e[i]) * e[i];
          off += d > 1e-4 * std::fabs(e[i]);
          beyond_adam += d > 1e-4 * std::fabs(e[i]) + kAdamSpread;
        }
        // Within 1e-4 relative as a tensor. Elementwise, as in Golden.DcganTrainStep, Adam turns
        // a near-zero gradient's rounding into a whole step of either sign, so an element may be
        // off by up to kAdamSpread; how many are depends on both backends' summation orders (0.5%
        // to 0.75% of a BatchNorm1d's biases seen), so only that bound is checked per element.
        const double relative = std::sqrt(diff2 / std::max(ref2, 1e-300));
        std::printf("%s.%-26s norm-relative %.2e, %zu/%zu elements beyond 1e-4\n", name, expected[t].first.c_str(),
                    relative, off, e.size());
        EXPECT_LE(relative, 1e-4) << name << "." << expected[t].first;
        EXPECT_EQ(beyond_adam, 0u) << name << "." << expected[t].first;
      }
    }
  }
}

// The GPU twin of the CPU bench's "0 heap allocations per step": after two warm-up steps
// every device buffer a step needs comes from the allocator's cache (a prerequisite for
// capturing the step in a CUDA graph), in FP32 and with the tensor-core kernels.
TEST_P(CudaParity, DcganStepAllocatesNothingAfterWarmUp) {
  const UseCudaKernels scope(cuda());
  struct Restore {
    ~Restore() { set_matmul_precision(MatmulPrecision::fp32); }
  } restore;
  for (MatmulPrecision p : {MatmulPrecision::fp32, MatmulPrecision::tf32}) {
    set_matmul_precision(p);
    Gan gan = make_gan(Device::cuda);
    Generator data(5);
    const auto step = [&] {
      const Tensor real = Tensor::rand({8, 1, 28, 28}, data, Device::cpu, -1.0f, 1.0f).to(Device::cuda);
      const Tensor z = Tensor::randn({8, 100}, data).to(Device::cuda);
      return gan_train_step(*gan.g, *gan.d, *gan.opt_g, *gan.opt_d, GanLoss::bce, real, z, {});
    };
    for (int i = 0; i < 2; ++i) step();
    const int64_t before = Allocator::get(Device::cuda).stats().system_allocations;
    for (int i = 0; i < 2; ++i) {
      const GanStepStats s = step();
      EXPECT_TRUE(std::isfinite(s.d_loss) && std::isfinite(s.g_loss)) << precision_name(p);
    }
    EXPECT_EQ(Allocator::get(Device::cuda).stats().system_allocations, before) << precision_name(p);
  }
}
