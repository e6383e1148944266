// The 2-D toy experiments: mixtures and training sets, the toy models' shapes and
// feature maps, and the metrics on hand-made sample sets with known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "engine/engine.h"
#include "models/toy2d/data.h"
#include "models/toy2d/metrics.h"
#include "models/toy2d/networks.h"

using namespace cfgan;

namespace {

// `count` copies of each listed mode's center, as an (n, 2) tensor.
Tensor at_centers(const ToyMixture& m, const std::vector<int>& modes, int count) {
  std::vector<float> xy;
  for (int k : modes) {
    for (int i = 0; i < count; ++i) xy.push_back(m.centers[2 * k]), xy.push_back(m.centers[2 * k + 1]);
  }
  return Tensor::from_host({static_cast<int64_t>(xy.size() / 2), 2}, xy);
}

int nearest_mode(const ToyMixture& m, float x, float y) {
  int best = 0;
  for (int k = 1; k < m.modes(); ++k) {
    auto d2 = [&](int j) { return std::pow(x - m.centers[2 * j], 2) + std::pow(y - m.centers[2 * j + 1], 2); };
    if (d2(k) < d2(best)) best = k;
  }
  return best;
}

}  // namespace

TEST(Toy2d, Mixtures) {
  const ToyMixture ring = make_toy_mixture("ring");
  ASSERT_EQ(ring.modes(), 8);
  EXPECT_FLOAT_EQ(ring.std, 0.01f);
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(std::hypot(ring.centers[2 * k], ring.centers[2 * k + 1]), 1.0, 1e-6);
  const ToyMixture grid = make_toy_mixture("grid");
  ASSERT_EQ(grid.modes(), 25);
  EXPECT_FLOAT_EQ(grid.std, 0.05f);
  std::set<std::pair<float, float>> centers;
  for (int k = 0; k < 25; ++k) centers.insert({grid.centers[2 * k], grid.centers[2 * k + 1]});
  EXPECT_EQ(centers.size(), 25u);
  EXPECT_TRUE(centers.count({-4.0f, 4.0f}) && centers.count({0.0f, 0.0f}) && centers.count({4.0f, -2.0f}));
  try {
    make_toy_mixture("moons");
    FAIL() << "an unknown data set must be refused";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--data: expected ring or grid, got 'moons'");
  }
}

TEST(Toy2d, MixtureSamplesHaveTheModesStatistics) {
  const ToyMixture grid = make_toy_mixture("grid");
  Generator gen(3);
  const int64_t n = 50000;
  const std::vector<float> xy = sample_mixture(grid, n, gen).to_host();
  std::vector<int64_t> per_mode(25, 0);
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int k = nearest_mode(grid, xy[2 * i], xy[2 * i + 1]);
    ++per_mode[k];
    for (int c = 0; c < 2; ++c) {
      const double d = xy[2 * i + c] - grid.centers[2 * k + c];
      sum += d, sum_sq += d * d;
    }
  }
  // 2000 expected per mode; a binomial std of ~44, so 6 std is 265.
  for (int64_t count : per_mode) EXPECT_NEAR(count, 2000, 265);
  const double mean = sum / (2 * n), std = std::sqrt(sum_sq / (2 * n) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(std, 0.05, 0.001);
}

TEST(Toy2d, ScarceDataIsAFixedBalancedSet) {
  ToyData data(make_toy_mixture("ring"), 5, 7);
  const std::vector<float> set = data.training_set().to_host();
  ASSERT_EQ(data.training_set().dim(0), 40);
  std::vector<int> per_mode(8, 0);
  for (size_t i = 0; i < set.size(); i += 2) ++per_mode[nearest_mode(data.mixture(), set[i], set[i + 1])];
  for (int count : per_mode) EXPECT_EQ(count, 5);
  std::set<std::pair<float, float>> members;
  for (size_t i = 0; i < set.size(); i += 2) members.insert({set[i], set[i + 1]});
  const std::vector<float> batch = data.next(64).to_host();
  for (size_t i = 0; i < batch.size(); i += 2) EXPECT_TRUE(members.count({batch[i], batch[i + 1]}));

  ToyData unlimited(make_toy_mixture("ring"), 0, 7);
  EXPECT_FALSE(unlimited.training_set().defined());
  EXPECT_NE(unlimited.next(4).to_host(), unlimited.next(4).to_host());
}

TEST(Toy2d, AllSamplesOnOneModeCoverOneMode) {
  const ToyMixture ring = make_toy_mixture("ring");
  const ModeMetrics m = mode_metrics(ring, at_centers(ring, {3}, 2500));
  EXPECT_EQ(m.modes_covered, 1);
  EXPECT_DOUBLE_EQ(m.high_quality, 1.0);
  EXPECT_NEAR(m.kl, std::log(8.0), 1e-12);
  EXPECT_EQ(m.histogram[3], 2500);
}

TEST(Toy2d, PerfectSamplesCoverEveryModeUniformly) {
  const ToyMixture ring = make_toy_mixture("ring");
  const ModeMetrics exact = mode_metrics(ring, at_centers(ring, {0, 1, 2, 3, 4, 5, 6, 7}, 100));
  EXPECT_EQ(exact.modes_covered, 8);
  EXPECT_DOUBLE_EQ(exact.high_quality, 1.0);
  EXPECT_NEAR(exact.kl, 0.0, 1e-12);
  // Samples of the mixture itself: in 2-D, P(|x - mu| <= 3 std) = 1 - exp(-9/2) = 0.9889.
  Generator gen(11);
  const ModeMetrics real = mode_metrics(ring, sample_mixture(ring, 20000, gen));
  EXPECT_EQ(real.modes_covered, 8);
  EXPECT_NEAR(real.high_quality, 1.0 - std::exp(-4.5), 0.004);
  EXPECT_LT(real.kl, 0.002);
}

TEST(Toy2d, KnownHistograms) {
  const ToyMixture ring = make_toy_mixture("ring");
  const ModeMetrics two = mode_metrics(ring, at_centers(ring, {0, 5}, 10));  // p = (1/2, 1/2) of 8
  EXPECT_EQ(two.modes_covered, 2);
  EXPECT_NEAR(two.kl, std::log(4.0), 1e-12);
  const ToyMixture grid = make_toy_mixture("grid");
  const ModeMetrics skewed = mode_metrics(grid, at_centers(grid, {0, 0, 0, 24}, 1));  // p = (3/4, 1/4) of 25
  EXPECT_NEAR(skewed.kl, 0.75 * std::log(0.75 * 25) + 0.25 * std::log(0.25 * 25), 1e-12);
}

TEST(Toy2d, FarAndNonFiniteSamplesAreNotHighQuality) {
  const ToyMixture ring = make_toy_mixture("ring");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // The origin is 1 from every mode; (1, 0.031) is just past 3 std of mode 0; (1, 0.029) within.
  const Tensor samples = Tensor::from_host({5, 2}, {0.0f, 0.0f, 1.0f, 0.031f, nan, nan, 1.0f, 0.029f, 1e30f, 0.0f});
  const ModeMetrics m = mode_metrics(ring, samples);
  EXPECT_EQ(m.modes_covered, 1);
  EXPECT_DOUBLE_EQ(m.high_quality, 0.2);
  EXPECT_EQ(m.histogram[0], 1);
  const ModeMetrics none = mode_metrics(ring, Tensor::from_host({1, 2}, {0.0f, 0.0f}));
  EXPECT_EQ(none.modes_covered, 0);
  EXPECT_DOUBLE_EQ(none.high_quality, 0.0);
  EXPECT_NEAR(none.kl, std::log(8.0), 1e-12);  // no high-quality sample: KL's maximum
}

TEST(Toy2d, GaussianEntropyOfNormalizedFeatures) {
  // Rows +-e1, +-e2 at any length normalize to the same four unit vectors: mean 0 and
  // covariance (2/3) I with the n - 1 divisor, so the entropy is 2 * 0.5 log(2/3 + eps).
  const Tensor f = Tensor::from_host({4, 2}, {3.0f, 0.0f, 0.0f, 0.5f, -2.0f, 0.0f, 0.0f, -7.0f});
  EXPECT_NEAR(gaussian_entropy(f, 1e-4), std::log(2.0 / 3.0 + 1e-4), 1e-9);
  // Parallel rows carry no spread: every eigenvalue is 0, so d/2 log eps.
  const Tensor same = Tensor::from_host({3, 4}, {1, 2, 3, 4, 2, 4, 6, 8, 0.5, 1, 1.5, 2});
  EXPECT_NEAR(gaussian_entropy(same, 1e-4), 2.0 * std::log(1e-4), 1e-6);
}

TEST(Toy2d, ModelsExposeTheirFeatureLayers) {
  manual_seed(1);
  ToyGenerator g(2, 16, 3);
  ToyDiscriminator d(16, 3);
  Generator gen(2);
  Tensor f_g, f_d;
  const Tensor x = g.generate(Tensor::randn({5, 2}, gen), {}, {g.default_feature_block(), &f_g});
  const Tensor logits = d.score(x, {}, {d.default_feature_block(), &f_d});
  EXPECT_EQ(x.shape(), Shape({5, 2}));
  EXPECT_EQ(logits.shape(), Shape({5}));
  EXPECT_EQ(f_g.shape(), Shape({5, 16}));
  EXPECT_EQ(f_d.shape(), Shape({5, 16}));
  for (float v : f_g.to_host()) EXPECT_GE(v, 0.0f);  // after ReLU
  EXPECT_EQ(g.parameter_count(), (2 * 16 + 16) + 2 * (16 * 16 + 16) + (16 * 2 + 2));
  EXPECT_THROW(d.score(Tensor::zeros({5, 3})), Error);
}

TEST(Toy2d, RegularizedStepTrainsBothNetworks) {
  // The same step with and without UR + ER: the terms join G's loss only, so D's update and
  // both reported losses are bit-identical, and G's update differs.
  auto one_step = [](float ur, float er) {
    auto gan =
        std::make_unique<ToyGan>(ToyGanConfig{.hidden = 32, .batch = 16, .ur_weight = ur, .er_weight = er, .seed = 4});
    ToyData data(make_toy_mixture("ring"), 2, 4);
    const GanStepStats stats = gan->step(data.next(16));
    return std::pair{std::move(gan), stats};
  };
  const auto [plain, plain_stats] = one_step(0.0f, 0.0f);
  const auto [reg, reg_stats] = one_step(0.2f, 0.5f);
  EXPECT_EQ(reg_stats.d_loss, plain_stats.d_loss);
  EXPECT_EQ(reg_stats.g_loss, plain_stats.g_loss);
  EXPECT_TRUE(std::isfinite(reg_stats.ur_g) && std::isfinite(reg_stats.er_g));
  EXPECT_LE(reg_stats.ur_g, 0.0f);  // a log-mean of exp(-t d^2) <= 0
  const auto d_plain = plain->discriminator().parameters(), d_reg = reg->discriminator().parameters();
  for (size_t i = 0; i < d_plain.size(); ++i)
    EXPECT_EQ(d_reg[i].to_host(), d_plain[i].to_host()) << "D parameter " << i;
  const auto g_plain = plain->generator().parameters(), g_reg = reg->generator().parameters();
  size_t changed = 0;
  for (size_t i = 0; i < g_plain.size(); ++i) changed += g_reg[i].to_host() != g_plain[i].to_host();
  EXPECT_EQ(changed, g_plain.size()) << "UR + ER should move every G parameter";
  Generator gen(9);
  const FeatureInfo info = feature_information(*reg, 2, gen);
  for (double v :
       {info.ur_g, info.ur_d, info.er_g, info.er_d, info.entropy_g, info.entropy_d, info.log_norm_g, info.log_norm_d}) {
    EXPECT_TRUE(std::isfinite(v));
  }
  EXPECT_LE(info.ur_g, 0.0);
}

TEST(Toy2d, DeadFeatureRowsAreCountedNotAveraged) {
  // Zero weights into G's last hidden layer: every f_G row is all zero, a direction UR
  // and ER cannot take; the rows are counted as dead and the statistics are NaN.
  ToyGan gan({.hidden = 16, .batch = 8, .seed = 5});
  for (auto& [name, t] : gan.generator().named_parameters()) {
    if (name.rfind("2.", 0) == 0) t.fill_(0.0f);
  }
  Generator gen(6);
  const FeatureInfo info = feature_information(gan, 3, gen);
  EXPECT_DOUBLE_EQ(info.dead_g, 1.0);
  EXPECT_TRUE(std::isnan(info.ur_g) && std::isnan(info.er_g) && std::isnan(info.entropy_g));
  EXPECT_DOUBLE_EQ(info.dead_d, 0.0);  // LeakyReLU features are never all zero here
  EXPECT_TRUE(std::isfinite(info.ur_d) && std::isfinite(info.entropy_d));
}
