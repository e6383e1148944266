// Golden.DcganTrainStep: one full training step of the reference DCGAN (D update on a
// real and a generated batch, then G update, Adam) against PyTorch 1.13.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "models/gan_trainer.h"
#include "tests/golden_util.h"

using namespace cfgan;
using cfgan::testing::expect_state_after_adam_step;
using cfgan::testing::hashed_init;
using cfgan::testing::load_golden;

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
  expect_state_after_adam_step(*g, f.tensors, "G1.");
  expect_state_after_adam_step(*d, f.tensors, "D1.");
}
