// The CDVAE-GAN's latent pieces: values against closed forms, gradients against finite
// differences, and the straight-through code's gradient equal to its relaxation's.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "models/cdvae/latent.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using cfgan::testing::check_gradients;
using cfgan::testing::uniform;

TEST(Latent, KlValuesMatchClosedForms) {
  // KL(N(mu, s^2) || N(0, 1)) per dim = (mu^2 + s^2 - 1 - log s^2) / 2: mu = 1, s = 1 -> 0.5;
  // mu = 0, log s^2 = 1 -> (e - 2) / 2. Two dims per row, rows averaged.
  const Tensor mu = Tensor::from_host({2, 2}, {1, 0, 0, 0}), logvar = Tensor::from_host({2, 2}, {0, 1, 0, 0});
  EXPECT_NEAR(gaussian_kl(mu, logvar).item(), (0.5 + (std::exp(1.0) - 2) / 2) / 2, 1e-6);
  // q = sigmoid(0) = 0.5 against p = 0.25: 0.5 ln 2 + 0.5 ln(2/3) = 0.143841; q = p gives 0.
  const Tensor prior = Tensor::from_host({2}, {0.25f, 0.7f});
  const float l07 = std::log(0.7f / 0.3f);
  EXPECT_NEAR(bernoulli_kl(Tensor::from_host({1, 2}, {0.0f, l07}), prior).item(), 0.143841, 1e-5);
  EXPECT_NEAR(bernoulli_kl(Tensor::from_host({1, 2}, {std::log(1.0f / 3.0f), l07}), prior).item(), 0.0, 1e-6);
  // Huge logits stay finite (softplus form): q ~ 1 against p = 0.25 -> ln 4.
  EXPECT_NEAR(bernoulli_kl(Tensor::from_host({1, 2}, {80.0f, l07}), prior).item(), std::log(4.0), 1e-5);
}

TEST(Latent, SamplesHaveTheirDistributions) {
  Generator gen(5);
  const int64_t n = 20000;
  const Tensor mu = Tensor::full({n, 1}, 2.0f), logvar = Tensor::full({n, 1}, std::log(9.0f));
  const std::vector<float> z = gaussian_sample(mu, logvar, gen).to_host();
  double m = 0, v = 0;
  for (float x : z) m += x / n;
  for (float x : z) v += (x - m) * (x - m) / (n - 1);
  EXPECT_NEAR(m, 2.0, 4 * 3 / std::sqrt(double(n)));  // 4 standard errors
  EXPECT_NEAR(std::sqrt(v), 3.0, 0.1);
  // P(relaxed sample > 1/2) = sigmoid(l) at every temperature: the relaxation keeps the Bernoulli.
  const float l = std::log(0.7f / 0.3f);
  for (float tau : {0.1f, 1.0f, 5.0f}) {
    const std::vector<float> a = binary_concrete(Tensor::full({n, 1}, l), tau, false, gen).to_host();
    double above = 0;
    for (float x : a) above += x > 0.5f;
    EXPECT_NEAR(above / n, 0.7, 4 * std::sqrt(0.21 / n)) << "tau " << tau;
  }
  const std::vector<float> hard = binary_concrete(Tensor::full({100, 3}, 0.3f), 0.5f, true, gen).to_host();
  for (float x : hard) EXPECT_TRUE(x == 0.0f || x == 1.0f) << x;
}

TEST(Latent, GradientsMatchFiniteDifferences) {
  // Smooth compositions of checked ops: 1e-4 covers float32 rounding at h = 1e-3.
  const cfgan::testing::Tolerance tol{2e-4, 2e-3};
  check_gradients(
      "gaussian_sample",
      [](const std::vector<Tensor>& in) {
        Generator gen(3);
        return gaussian_sample(in[0], in[1], gen);
      },
      {{uniform({3, 4}, 1)}, {uniform({3, 4}, 2)}}, tol);
  check_gradients(
      "gaussian_kl", [](const std::vector<Tensor>& in) { return gaussian_kl(in[0], in[1]); },
      {{uniform({3, 4}, 3)}, {uniform({3, 4}, 4)}}, tol);
  check_gradients(
      "bernoulli_kl", [](const std::vector<Tensor>& in) { return bernoulli_kl(in[0], in[1]); },
      {{uniform({3, 4}, 5, -3.0f, 3.0f)}, {uniform({4}, 6, 0.1f, 0.9f), false}}, tol);
  check_gradients(
      "binary_concrete (relaxed)",
      [](const std::vector<Tensor>& in) {
        Generator gen(7);
        return binary_concrete(in[0], 0.7f, false, gen);
      },
      {{uniform({3, 4}, 8, -2.0f, 2.0f)}}, tol);
}

TEST(Latent, StraightThroughPassesTheRelaxedGradient) {
  const Tensor logits = uniform({4, 3}, 9, -2.0f, 2.0f), weights = uniform({4, 3}, 10);
  auto grad_of = [&](bool hard) {
    Tensor leaf = Tensor::from_host(logits.shape(), logits.to_host());
    leaf.requires_grad_();
    Generator gen(11);
    sum(binary_concrete(leaf, 0.5f, hard, gen) * weights).backward();
    return leaf.grad().to_host();
  };
  EXPECT_EQ(grad_of(true), grad_of(false));
}
