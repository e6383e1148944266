// R1.*: the lazy R1 schedule and D's Adam correction (models/gan_trainer.h
// R1Regularization), and r1_penalty on a discriminator whose input gradient is known.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "models/gan_loss.h"
#include "models/gan_trainer.h"

using namespace cfgan;

TEST(R1, LazyScheduleAndAdamCorrection) {
  const R1Regularization off{}, every{.gamma = 1.0f, .every = 1}, lazy{.gamma = 10.0f, .every = 16};
  EXPECT_FALSE(off.due(0));
  for (int64_t step : {0, 1, 2, 3}) EXPECT_TRUE(every.due(step));
  for (int64_t step = 0; step < 40; ++step) EXPECT_EQ(lazy.due(step), step % 16 == 0) << step;
  const AdamOptions base{.lr = 2e-3f, .beta1 = 0.5f, .beta2 = 0.99f};
  for (const R1Regularization& unchanged : {off, every}) {
    const AdamOptions a = unchanged.adjust(base);
    EXPECT_EQ(a.lr, base.lr);
    EXPECT_EQ(a.beta1, base.beta1);
    EXPECT_EQ(a.beta2, base.beta2);
  }
  // StyleGAN2: c = 16 / 17; lr * c, beta^c.
  const AdamOptions a = lazy.adjust(base);
  EXPECT_FLOAT_EQ(a.lr, 2e-3f * 16.0f / 17.0f);
  EXPECT_FLOAT_EQ(a.beta1, std::pow(0.5f, 16.0f / 17.0f));
  EXPECT_FLOAT_EQ(a.beta2, std::pow(0.99f, 16.0f / 17.0f));
  EXPECT_EQ(a.eps, base.eps);
}

TEST(R1, PenaltyOfAQuadraticCritic) {
  // D(x) = sum_i w_i x_i^2 per image: grad_x D = 2 w x, so R1 = gamma/2 mean_n sum_i 4 w_i^2 x_ni^2
  // and dR1/dw_i = gamma/2 mean_n 8 w_i x_ni^2.
  Tensor w = Tensor::from_host({1, 1, 1, 2}, {0.5f, -2.0f});
  w.requires_grad_(true);
  Tensor x = Tensor::from_host({2, 1, 1, 2}, {1.0f, 2.0f, -3.0f, 0.5f});
  x.requires_grad_(true);
  const Tensor logits = sum(square(x) * w, {1, 2, 3});
  const Tensor r1 = r1_penalty(logits, x, 4.0f);
  // n=0: 4 (0.25 * 1 + 4 * 4) = 65; n=1: 4 (0.25 * 9 + 4 * 0.25) = 13; mean 39; times 2.
  EXPECT_FLOAT_EQ(r1.item(), 78.0f);
  r1.backward();
  // dR1/dw = 2 * mean_n 8 w x^2: w0: 2 * 8 * 0.5 * (1 + 9) / 2 = 40; w1: 2 * 8 * -2 * (4 + 0.25) / 2 = -68.
  EXPECT_EQ(w.grad().to_host(), (std::vector<float>{40.0f, -68.0f}));
  // The batch itself: dR1/dx = gamma/2 mean_n 8 w^2 x = 8 w^2 x here (the penalty's own
  // first-order gradient is not stored on it).
  EXPECT_EQ(x.grad().to_host(), (std::vector<float>{2.0f, 64.0f, -6.0f, 16.0f}));
}

TEST(R1, PenaltyNeedsARealBatchThatTakesAGradient) {
  Tensor w = Tensor::from_host({2}, {1.0f, 2.0f});
  w.requires_grad_(true);
  const Tensor x = Tensor::from_host({1, 2}, {1.0f, 1.0f});
  try {
    r1_penalty(sum(x * w, {1}), x, 1.0f);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the real batch must require grad"), std::string::npos) << e.what();
  }
}

TEST(R1, WarmUpdateTakesEveryBufferFromTheCache) {
  // The lazy update, once warm, allocates no device memory (and, bench_dcgan_step counts,
  // no heap memory): the recorded backward's tensors come from the caching allocator.
  GanSpec spec;
  spec.width = 8;
  manual_seed(7);
  auto d = make_discriminator(spec);
  Adam opt(d->named_parameters(), {});
  Generator data(8);
  const Tensor real = Tensor::rand({4, 1, 28, 28}, data, Device::cpu, -1.0f, 1.0f);
  const R1Regularization r1{.gamma = 10.0f, .every = 16};
  for (int k = 0; k < 3; ++k) r1_update(*d, opt, real, {}, r1);
  const int64_t before = Allocator::get(Device::cpu).stats().system_allocations;
  for (int k = 0; k < 3; ++k) r1_update(*d, opt, real, {}, r1);
  EXPECT_EQ(Allocator::get(Device::cpu).stats().system_allocations, before);
}
