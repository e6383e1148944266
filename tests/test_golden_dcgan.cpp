// Golden.DcganTrainStep: one full training step of the reference DCGAN (D update on a
// real and a generated batch, then G update, Adam) against PyTorch 1.13.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "models/gan_trainer.h"
#include "tests/golden_util.h"

using namespace cfgan;
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
  for (auto [prefix, model] : {std::pair<std::string, Module*>{"G1.", g.get()}, {"D1.", d.get()}}) {
    for (auto& [name, t] : model->state_dict()) {
      const Tensor& expected = f.tensors.at(prefix + name);
      ASSERT_EQ(t.shape(), expected.shape()) << prefix << name;
      const std::vector<float> a = t.to_host(), e = expected.to_host();
      size_t off = 0;
      for (size_t i = 0; i < a.size(); ++i) off += std::fabs(double(a[i]) - e[i]) > 1e-4 * std::fabs(e[i]);
      const double relative = norm_relative_error(t, expected);
      EXPECT_LE(relative, 1e-4) << prefix << name;
      // Adam's first update is lr * g / (|g| + eps): about lr * sign(g), whatever |g|. Where
      // a gradient element is ~1e-8 (a sum that cancels), fp32 summation order moves it by
      // a large fraction of itself and the update by up to lr, so a few elements may miss
      // 1e-4 on their own; require it of all but 0.1%.
      EXPECT_LE(off, a.size() / 1000) << prefix << name << ": " << off << " of " << a.size()
                                      << " elements differ by more than 1e-4 relative";
      std::printf("%s%-26s norm-relative error %.2e, %zu/%zu elements beyond 1e-4\n", prefix.c_str(), name.c_str(),
                  relative, off, a.size());
    }
  }
}
