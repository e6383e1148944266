// The information regularizers UR and ER: gradient checks, PyTorch golden values, and
// the behaviour they exist for.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "models/gan_trainer.h"
#include "models/regularizers.h"
#include "tests/golden_util.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

// Both are sums of O(1) logs over a few dozen pairs / samples: float rounding of the
// scalar (~1e-7 relative) over 2 * kEps gives ~1e-4 absolute noise in the numeric side.
constexpr Tolerance kRegularizer{2e-4, 1e-3};

TEST(GradCheck, Uniformity) {
  const Tensor f = uniform({8, 3, 2, 2}, 31, -1.0f, 1.0f) + 0.3f;
  check_gradients(
      "UR", [](const std::vector<Tensor>& in) { return uniformity_regularizer(in[0]); }, {{f}}, kRegularizer);
  const Tensor odd = uniform({7, 5}, 32);  // halves of 3 and 4 rows
  check_gradients(
      "UR odd batch", [](const std::vector<Tensor>& in) { return uniformity_regularizer(in[0]); }, {{odd}},
      kRegularizer);
}

TEST(GradCheck, Entropy) {
  const Tensor f = uniform({6, 2, 3, 3}, 33, -1.0f, 1.0f) + 0.2f;
  check_gradients(
      "ER", [](const std::vector<Tensor>& in) { return entropy_regularizer(in[0]); }, {{f}}, kRegularizer);
}

TEST(Golden, UrEr) {
  const SafetensorsFile g = load_golden("ur_er");
  for (const char* which : {"ur", "er"}) {
    Tensor f = g.tensors.at("f").detach();
    f.requires_grad_(true);
    const Tensor value = std::string(which) == "ur" ? uniformity_regularizer(f) : entropy_regularizer(f);
    // A handful of float sums and logs: 1e-5 relative.
    cfgan::testing::expect_close(value, g.tensors.at(which), 1e-5f, 1e-5f, which);
    value.backward();
    cfgan::testing::expect_close(f.grad(), g.tensors.at(std::string("d") + which), 1e-6f, 1e-4f,
                                 std::string("d") + which);
  }
  // A dead row: UR through F.normalize, the zero row at distance 1 from the others. Its own
  // gradient is ~1e11 (1 / the normalization's eps), so only relative tolerances mean anything.
  Tensor dead = g.tensors.at("f_dead").detach();
  dead.requires_grad_(true);
  const Tensor ur = uniformity_regularizer(dead);
  cfgan::testing::expect_close(ur, g.tensors.at("ur_dead"), 1e-5f, 1e-5f, "ur_dead");
  ur.backward();
  cfgan::testing::expect_close(dead.grad(), g.tensors.at("dur_dead"), 1e-6f, 1e-4f, "dur_dead");
}

TEST(Regularizers, UniformityRewardsSpreadOutFeatures) {
  // Four copies of one direction: every pair at distance 0 -> uniformity log(1) = 0,
  // the maximum. Four orthogonal directions: every pair at |x-y|^2 = 2 -> -2t = -4.
  const Tensor same = Tensor::ones({4, 4});
  EXPECT_NEAR(uniformity(same / 2.0f).item(), 0.0f, 1e-6f);
  std::vector<float> eye(16, 0.0f);
  for (int i = 0; i < 4; ++i) eye[i * 5] = 1.0f;
  EXPECT_NEAR(uniformity(Tensor::from_host({4, 4}, eye)).item(), -4.0f, 1e-5f);
  Generator gen(5);
  const Tensor clustered = Tensor::randn({16, 32}, gen, Device::cpu, 0.0f, 0.05f) + 1.0f;
  const Tensor spread = Tensor::randn({16, 32}, gen);
  EXPECT_LT(uniformity_regularizer(spread).item(), uniformity_regularizer(clustered).item());
}

TEST(Regularizers, EntropyMatchesHandComputation) {
  // Rows (3, 4) and (0, 2): norms 5 and 2; normalized rows (0.6, 0.8), (0, 1) with
  // unbiased std |a - b| / sqrt(2): 0.2/sqrt(2) and 1/sqrt(2).
  const Tensor f = Tensor::from_host({2, 2}, {3, 4, 0, 2});
  const double expected = -0.5 * ((0.5 * std::log(0.2 / std::sqrt(2.0)) + std::log(5.0)) +
                                  (0.5 * std::log(1.0 / std::sqrt(2.0)) + std::log(2.0)));
  EXPECT_NEAR(entropy_regularizer(f).item(), expected, 1e-6);
  EXPECT_NEAR(mean_log_norm(f), -0.5 * (std::log(5.0) + std::log(2.0)), 1e-6);
}

TEST(Regularizers, DeadRowSitsAtDistanceOne) {
  // A ReLU feature map can be all zero for a sample; UR and ER treat that row as a zero
  // vector (as F.normalize does) instead of 0/0. Three orthonormal rows and a zero row: three
  // pairs at |x-y|^2 = 2 and three at 1, so with t = 2 uniformity is log((3e^-4 + 3e^-2) / 6).
  std::vector<float> rows(16, 0.0f);
  for (int i = 1; i < 4; ++i) rows[i * 4 + i] = 1.0f;
  EXPECT_NEAR(uniformity(Tensor::from_host({4, 4}, rows)).item(),
              std::log((3 * std::exp(-4.0) + 3 * std::exp(-2.0)) / 6), 1e-6);
  Generator gen(3);
  std::vector<float> values = Tensor::rand({6, 5}, gen).to_host();
  std::fill(values.begin(), values.begin() + 5, 0.0f);  // row 0 dead
  const Tensor f = Tensor::from_host({6, 5}, values).requires_grad_();
  const Tensor ur = uniformity_regularizer(f), er = entropy_regularizer(f);
  (ur + er).backward();
  EXPECT_TRUE(std::isfinite(ur.item()));
  EXPECT_TRUE(std::isfinite(er.item()));
  for (float g : f.grad().to_host()) EXPECT_TRUE(std::isfinite(g));
}

TEST(Regularizers, RejectTooSmallInputs) {
  EXPECT_THROW(uniformity_regularizer(Tensor::ones({3, 5})), Error);
  EXPECT_THROW(entropy_regularizer(Tensor::ones({4, 1})), Error);
}

TEST(Regularizers, TrainStepChangesOnlyTheGenerator) {
  // One step with and without UR + ER from the same start: D's update depends only on
  // its own loss, so D ends identical; G's loss gained terms, so G ends different.
  auto run = [](const GanRegularization& reg) {
    GanSpec spec;
    spec.width = 8;
    manual_seed(7);
    auto g = make_generator(spec);
    auto d = make_discriminator(spec);
    Adam opt_g(g->named_parameters()), opt_d(d->named_parameters());
    Generator data(8);
    const Tensor real = Tensor::rand({8, 1, 28, 28}, data, Device::cpu, -1.0f, 1.0f);
    const Tensor z = Tensor::randn({8, 100}, data);
    const GanStepStats stats = gan_train_step(*g, *d, opt_g, opt_d, GanLoss::bce, real, z, {}, reg);
    std::vector<std::vector<float>> d_grads;
    for (const Tensor& p : d->parameters()) d_grads.push_back(p.grad().to_host());
    return std::tuple{g->parameters()[0].to_host(), d->parameters()[0].to_host(), d_grads, stats};
  };
  const auto [g_plain, d_plain, dg_plain, s_plain] = run({});
  const auto [g_reg, d_reg, dg_reg, s_reg] = run({.ur_weight = 0.2f, .er_weight = 0.5f});
  EXPECT_EQ(d_plain, d_reg);
  // D's gradients after the step are those of its own update: the G pass, regularized or
  // not, adds nothing to them (D's step comes first, so its weights alone cannot show a leak).
  EXPECT_EQ(dg_plain, dg_reg);
  EXPECT_NE(g_plain, g_reg);
  EXPECT_EQ(s_plain.g_loss, s_reg.g_loss);  // the adversarial part is reported alone
  EXPECT_LT(s_reg.ur_g, 0.0f);              // a log of a mean of exp(-t d^2) < 1
  EXPECT_TRUE(std::isfinite(s_reg.er_d) && std::isfinite(s_reg.log_norm_g));
}
