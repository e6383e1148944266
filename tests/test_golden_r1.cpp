// Golden.R1*: the R1 penalty (gamma / 2) mean ||grad_x D(x)||^2 of the reference DCGAN
// and the SNGAN discriminators on a real batch, and its gradient w.r.t. every parameter
// of D, against torch.autograd.grad(..., create_graph=True) (tests/golden/make_fixtures.py
// r1_dcgan, r1_sngan). D is in training mode: batch statistics, one power iteration.
// Golden.DcganR1Step: whole training steps with R1, joint and lazy (dcgan_r1_step): losses,
// R1, D's gradients and G and D after Adam.
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/engine.h"
#include "models/gan.h"
#include "models/gan_loss.h"
#include "models/gan_trainer.h"
#include "tests/golden_util.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// Logits and the input gradient are one forward / backward in float32 (sums of up to
// 2048 products): 1e-5 of their largest value. The parameter gradients pass through a
// second backward and, with batch norm, through the batch statistics of 8 images; they
// agree with PyTorch to ~1e-6 in norm (observed), required to 1e-4.
constexpr double kValueRtol = 1e-5, kGradNormRtol = 1e-4;

void expect_r1_matches(const std::string& fixture, const std::string& discriminator) {
  const SafetensorsFile f = load_golden(fixture);
  GanSpec spec;  // 28x28x1, width 64
  spec.discriminator = discriminator;
  auto d = make_discriminator(spec);
  hashed_init(*d);
  for (auto& [name, buffer] : d->named_buffers()) {  // spectral norm's u and v
    if (f.tensors.count(name)) buffer.copy_(f.tensors.at(name));
  }
  const float gamma = std::stof(f.metadata.at("gamma"));
  Tensor real = f.tensors.at("real").detach();
  real.requires_grad_(true);
  const Tensor logits = d->score(real, {});
  const Tensor input_grad = grad({sum(logits)}, {real}, true)[0];
  const Tensor r1 = r1_penalty(logits, real, gamma);
  r1.backward();

  auto largest = [](const Tensor& t) {
    float m = 0;
    for (float v : t.to_host()) m = std::max(m, std::fabs(v));
    return m;
  };
  const Tensor& expected_logits = f.tensors.at("logits");
  expect_close(logits, expected_logits, kValueRtol * largest(expected_logits), 0.0f, fixture + " logits");
  const Tensor& expected_input_grad = f.tensors.at("input_grad");
  expect_close(input_grad, expected_input_grad, kValueRtol * largest(expected_input_grad), 0.0f, fixture + " grad_x D");
  const float expected_r1 = f.tensors.at("r1").item();
  EXPECT_NEAR(r1.item(), expected_r1, 1e-5 * expected_r1) << fixture;
  std::printf("%s: R1 %.6g, PyTorch %.6g\n", fixture.c_str(), r1.item(), expected_r1);
  for (auto& [name, p] : d->named_parameters()) {
    const Tensor& expected = f.tensors.at("grad." + name);
    const Tensor actual = p.grad().defined() ? p.grad() : Tensor::zeros(p.shape());
    ASSERT_EQ(actual.shape(), expected.shape()) << name;
    const double relative = largest(expected) == 0.0f ? largest(actual) : norm_relative_error(actual, expected);
    EXPECT_LE(relative, kGradNormRtol) << fixture << " d R1 / d " << name;
    std::printf("  d R1 / d %-24s norm-relative error %.2e (|grad| max %.3g)\n", name.c_str(), relative,
                largest(expected));
  }
}

}  // namespace

TEST(Golden, R1Dcgan) { expect_r1_matches("r1_dcgan", "dcgan"); }

TEST(Golden, R1Sngan) { expect_r1_matches("r1_sngan", "sngan"); }

TEST(Golden, DcganR1Step) {
  const SafetensorsFile f = load_golden("dcgan_r1_step");
  const float gamma = std::stof(f.metadata.at("gamma"));
  for (const auto& [mode, every] : {std::pair<std::string, int64_t>{"joint", 1}, {"lazy", 4}}) {
    GanSpec spec;
    spec.width = 16;
    auto g = make_generator(spec);
    auto d = make_discriminator(spec);
    hashed_init(*g);
    hashed_init(*d);
    const R1Regularization r1{.gamma = gamma, .every = every};
    Adam opt_g(g->named_parameters(), {.lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f});
    Adam opt_d(d->named_parameters(), r1.adjust({.lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f}));
    const GanStepStats stats =
        gan_train_step(*g, *d, opt_g, opt_d, GanLoss::bce, f.tensors.at("real"), f.tensors.at("z"), {}, {}, r1, 0);
    ASSERT_TRUE(stats.r1_applied) << mode;
    for (const auto& [key, value] :
         {std::pair<std::string, float>{"d_loss", stats.d_loss}, {"g_loss", stats.g_loss}, {"r1", stats.r1}}) {
      const float expected = f.tensors.at(mode + "." + key).item();
      EXPECT_NEAR(value, expected, 1e-4 * std::fabs(expected)) << mode << " " << key;
    }
    // D's gradients of its last update (joint: d_loss + R1; lazy: interval x R1), which
    // Adam's first step, about lr * sign(g), would otherwise show only by their signs.
    for (auto& [name, p] : d->named_parameters()) {
      const Tensor& expected = f.tensors.at(mode + ".grad.D." + name);
      const Tensor actual = p.grad().defined() ? p.grad() : Tensor::zeros(p.shape());
      const double relative = norm_relative_error(actual, expected);
      EXPECT_LE(relative, kGradNormRtol) << mode << " d loss / d " << name;
      std::printf("%s grad.D.%-26s norm-relative error %.2e\n", mode.c_str(), name.c_str(), relative);
    }
    expect_state_after_adam_step(*d, f.tensors, mode + ".D1.");
    if (mode == "lazy") expect_state_after_adam_step(*g, f.tensors, mode + ".G1.");
  }
}
