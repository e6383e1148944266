#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/nn/spectral_norm.h"
#include "engine/optim/optimizer.h"

using namespace cfgan;

TEST(Module, NamedParametersAndBuffersAreRecursive) {
  Sequential net({std::make_shared<Linear>(4, 8), std::make_shared<BatchNorm1d>(8), ReLU(),
                  std::make_shared<Linear>(8, 2, false)});
  std::vector<std::string> names;
  for (auto& [name, t] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "3.weight"}));
  std::vector<std::string> buffers;
  for (auto& [name, t] : net.named_buffers()) buffers.push_back(name);
  EXPECT_EQ(buffers, (std::vector<std::string>{"1.running_mean", "1.running_var"}));
  EXPECT_EQ(net.parameter_count(), 4 * 8 + 8 + 8 + 8 + 8 * 2);
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Module, FrozenParametersPassGradientsThroughWithoutTheirOwn) {
  Sequential net({std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm1d>(4), ReLU(),
                  std::make_shared<Linear>(4, 1)});
  Generator gen(4);
  const Tensor x = Tensor::randn({5, 3}, gen).requires_grad_();
  net.requires_grad_(false);
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.requires_grad());
  sum(net(x)).backward();
  EXPECT_TRUE(x.grad().defined());
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
  net.requires_grad_(true);
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Module, TrainEvalReachesChildren) {
  auto bn = std::make_shared<BatchNorm2d>(3);
  Sequential net({bn});
  net.eval();
  EXPECT_FALSE(bn->is_training());
  // Eval with fresh running stats (0, 1) is the identity up to eps.
  Generator gen(3);
  Tensor x = Tensor::randn({2, 3, 4, 4}, gen);
  Tensor y = net(x);
  const auto xs = x.to_host(), ys = y.to_host();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(ys[i], xs[i] / std::sqrt(1.0f + 1e-5f), 1e-6f);
  net.train();
  EXPECT_TRUE(bn->is_training());
}

TEST(Module, DefaultInitFollowsPyTorchBounds) {
  manual_seed(5);
  Linear fc(400, 10);
  const float bound = 1.0f / 20.0f;
  float lo = 1, hi = -1;
  for (float v : fc.weight.to_host()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.9f * bound);  // 4000 draws reach the ends of U(-b, b)
  EXPECT_GT(hi, 0.9f * bound);
}

TEST(Module, InitSchemesHaveTheirVariance) {
  Generator gen(11);
  Tensor w = Tensor::empty({256, 128, 3, 3});
  auto variance = [&] {
    double s = 0, sq = 0;
    const auto v = w.to_host();
    for (float x : v) s += x, sq += double(x) * x;
    return sq / v.size() - (s / v.size()) * (s / v.size());
  };
  const double fan_in = 128 * 9, fan_out = 256 * 9;
  // 295k draws: sample variances are within 1% of the target; we allow 3%.
  init_kaiming_normal(w, 0.0f, gen);
  EXPECT_NEAR(variance(), 2.0 / fan_in, 0.03 * 2.0 / fan_in);
  init_kaiming_uniform(w, 0.0f, gen);
  EXPECT_NEAR(variance(), 2.0 / fan_in, 0.03 * 2.0 / fan_in);
  init_xavier_uniform(w, 1.0f, gen);
  EXPECT_NEAR(variance(), 2.0 / (fan_in + fan_out), 0.03 * 2.0 / (fan_in + fan_out));
  init_xavier_normal(w, 1.0f, gen);
  EXPECT_NEAR(variance(), 2.0 / (fan_in + fan_out), 0.03 * 2.0 / (fan_in + fan_out));
  init_normal(w, 0.0f, 0.02f, gen);
  EXPECT_NEAR(variance(), 0.0004, 0.03 * 0.0004);
}

TEST(Module, SpectralNormBoundsTheLargestSingularValue) {
  manual_seed(2);
  auto fc = std::make_shared<Linear>(6, 5);
  SpectralNorm sn(fc);
  sn.weight_orig.copy_(sn.weight_orig * 10.0f);
  Tensor w;
  for (int i = 0; i < 50; ++i) w = sn.normalized_weight();  // power iteration converges
  // sigma_max(W/sigma) = 1: for the converged v, ||W v|| = 1 and no unit vector does better.
  NoGrad no_grad;
  const float wv = std::sqrt(sum(square(matmul(w.detach(), reshape(sn.weight_v, {6, 1})))).item());
  EXPECT_NEAR(wv, 1.0f, 1e-4f);
  Generator gen(9);
  for (int trial = 0; trial < 20; ++trial) {
    Tensor x = Tensor::randn({6, 1}, gen);
    x = x / std::sqrt(sum(square(x)).item());
    EXPECT_LE(std::sqrt(sum(square(matmul(w.detach(), x))).item()), 1.0f + 1e-4f);
  }
}

TEST(Optimizer, SgdMomentumMatchesHandComputation) {
  Tensor p = Tensor::from_host({2}, {1.0f, -2.0f});
  p.requires_grad_(true);
  SGD sgd({{"p", p}}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.0f});
  // loss = sum(p^2) -> grad 2p. Step 1: buf = 2p0; p1 = p0 - 0.1 * 2 p0 = 0.8 p0.
  // Step 2: buf = 0.9 * 2p0 + 2p1 = 1.8p0 + 1.6p0 = 3.4p0; p2 = 0.8p0 - 0.34p0 = 0.46p0.
  for (int i = 0; i < 2; ++i) {
    sgd.zero_grad();
    sum(square(p)).backward();
    sgd.step();
  }
  const auto v = p.to_host();
  EXPECT_FLOAT_EQ(v[0], 0.46f);
  EXPECT_FLOAT_EQ(v[1], -0.92f);
  EXPECT_EQ(sgd.steps(), 2);
}

TEST(Optimizer, AdamFitsAQuadratic) {
  Tensor p = Tensor::from_host({3}, {5.0f, -3.0f, 1.0f});
  p.requires_grad_(true);
  Tensor target = Tensor::from_host({3}, {1.0f, 2.0f, 3.0f});
  Adam adam({{"p", p}}, {.lr = 0.1f});
  for (int i = 0; i < 500; ++i) {
    adam.zero_grad();
    mse_loss(p, target).backward();
    adam.step();
  }
  const auto v = p.to_host();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(v[i], i + 1.0f, 1e-2f);
}

TEST(Optimizer, SkipsParametersWithoutGradient) {
  Tensor a = Tensor::ones({2}), b = Tensor::ones({2});
  a.requires_grad_(true);
  b.requires_grad_(true);
  Adam adam({{"a", a}, {"b", b}});
  sum(a).backward();
  adam.step();
  EXPECT_NE(a.to_host()[0], 1.0f);
  EXPECT_EQ(b.to_host()[0], 1.0f);
}

TEST(Optimizer, RejectsFrozenParameters) {
  Tensor a = Tensor::ones({2});
  EXPECT_THROW(Adam({{"frozen", a}}), Error);
}

TEST(Training, SmallMlpLearnsXor) {
  manual_seed(1);
  Sequential net({std::make_shared<Linear>(2, 16), std::make_shared<Lambda>([](const Tensor& x) { return tanh(x); }),
                  std::make_shared<Linear>(16, 1)});
  Tensor x = Tensor::from_host({4, 2}, {0, 0, 0, 1, 1, 0, 1, 1});
  Tensor y = Tensor::from_host({4, 1}, {0, 1, 1, 0});
  Adam adam(net.named_parameters(), {.lr = 0.05f});
  float loss_value = 0;
  for (int i = 0; i < 300; ++i) {
    adam.zero_grad();
    Tensor loss = bce_with_logits(net(x), y);
    loss.backward();
    adam.step();
    loss_value = loss.item();
  }
  EXPECT_LT(loss_value, 0.05f);
  NoGrad no_grad;
  const auto p = sigmoid(net(x)).to_host();
  EXPECT_LT(p[0], 0.1f);
  EXPECT_GT(p[1], 0.9f);
  EXPECT_GT(p[2], 0.9f);
  EXPECT_LT(p[3], 0.1f);
}
