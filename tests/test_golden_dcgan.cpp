// Golden.DcganTrainStep: one full training step of the reference DCGAN (D update on a
// real and a generated batch, then G update, Adam) against PyTorch 1.13.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "engine/engine.h"
#include "models/gan_trainer.h"
#include "tests/golden_util.h"

using namespace cfgan;
using cfgan::testing::expect_state_after_adam_step;
using cfgan::testing::hashed_init;
using cfgan::testing::load_golden;
using cfgan::testing::norm_relative_error;

TEST(Golden, DcganTrainStep) {
  const SafetensorsFile f = load_golden("dcgan_train_step");
  GanSpec spec;  // the reference DCGAN: 28x28x1, z 100, width 64
  auto g = make_generator(spec);
  auto d = make_discriminator(spec);
  hashed_init(*g);
  hashed_init(*d);
  Adam opt_g(g->named_parameters(), {.lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f});
  Adam opt_d(d->named_parameters(), {.lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f});
  const GanStepStats stats =
      gan_train_step(*g, *d, opt_g, opt_d, GanLoss::bce, f.tensors.at("real"), f.tensors.at("z"), {});
  EXPECT_NEAR(stats.d_loss, f.tensors.at("d_loss").item(), 1e-4 * std::fabs(f.tensors.at("d_loss").item()));
  EXPECT_NEAR(stats.g_loss, f.tensors.at("g_loss").item(), 1e-4 * std::fabs(f.tensors.at("g_loss").item()));
  // The gradients before each Adam step: D's from its own loss (D is frozen during G's), G's
  // through the updated D. Summation order alone moves them by up to ~1e-5 of their norm (8.5e-6
  // measured for G); a gradient off by any factor misses by far more.
  for (auto [prefix, model] : {std::pair<std::string, Module*>{"gradG.", g.get()}, {"gradD.", d.get()}}) {
    for (auto& [name, p] : model->named_parameters()) {
      const Tensor& expected = f.tensors.at(prefix + name);
      ASSERT_EQ(p.grad().shape(), expected.shape()) << prefix << name;
      const double relative = norm_relative_error(p.grad(), expected);
      EXPECT_LE(relative, 5e-5) << prefix << name;
      std::printf("%s%-23s norm-relative error %.2e\n", prefix.c_str(), name.c_str(), relative);
    }
  }
  expect_state_after_adam_step(*g, f.tensors, "G1.");
  expect_state_after_adam_step(*d, f.tensors, "D1.");
}
