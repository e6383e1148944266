// The misclassification explainer's parts: attribution identities on models whose answer is
// known, the pointing score by hand, GAN inversion, transitions and the search's allocations.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "engine/storage.h"
#include "models/cdvae/model.h"
#include "models/classifier.h"
#include "models/explain/attribution.h"
#include "models/explain/code_flips.h"
#include "models/explain/maps.h"
#include "models/explain/search.h"
#include "models/gan.h"
#include "test_util.h"

using namespace cfgan;

namespace {

// A linear model over flattened images: logits = flatten(x) W^T + b, W (K, C*H*W).
struct LinearModel {
  Tensor w, b;
  LinearModel(int64_t outputs, int64_t inputs, Generator& gen)
      : w(Tensor::randn({outputs, inputs}, gen)), b(Tensor::randn({outputs}, gen)) {}
  Tensor operator()(const Tensor& x) const { return linear(flatten(x), w, b); }
};

void expect_near_all(const std::vector<float>& a, const std::vector<float>& b, float tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tolerance) << "element " << i;
}

TEST(Attribution, LinearModelMapsAreTheWeights) {
  Generator gen(3);
  const LinearModel model(3, 2 * 4 * 4, gen);
  const Tensor x = Tensor::randn({2, 2, 4, 4}, gen);
  const std::vector<int64_t> target{2, 0};
  const std::vector<float> w = model.w.to_host(), xs = x.to_host();
  const std::vector<float> grad_x = gradient_x_input(model, x, target).to_host();
  const std::vector<float> sal = saliency(model, x, target).to_host();
  std::vector<float> want_grad_x, want_sal;
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t p = 0; p < 32; ++p) {
      const float wp = w[target[i] * 32 + p];
      want_grad_x.push_back(wp * xs[i * 32 + p]);
      want_sal.push_back(std::fabs(wp));
    }
  }
  // The gradient of a linear score is its weight row exactly; only the product rounds.
  expect_near_all(grad_x, want_grad_x, 1e-6f);
  expect_near_all(sal, want_sal, 0.0f);
}

TEST(Attribution, IntegratedGradientsOfALinearModelIsWeightTimesDistance) {
  Generator gen(4);
  const LinearModel model(2, 3 * 5 * 5, gen);
  const Tensor x = Tensor::randn({3, 3, 5, 5}, gen);
  const Tensor baseline = Tensor::full({1, 3, 5, 5}, -1.0f);
  const std::vector<int64_t> target{1, 0, 1};
  const std::vector<float> ig = integrated_gradients(model, x, baseline, target, 7).to_host();
  const std::vector<float> w = model.w.to_host(), xs = x.to_host();
  std::vector<float> want;
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t p = 0; p < 75; ++p) want.push_back(w[target[i] * 75 + p] * (xs[i * 75 + p] + 1.0f));
  }
  // Every path point has the same gradient, so the Riemann sum is exact; 7 summed floats round at ~1e-6.
  expect_near_all(ig, want, 1e-5f);
}

TEST(Attribution, IntegratedGradientsCompletenessOnTheClassifier) {
  Classifier model({.image_size = 28, .channels = 1, .num_classes = 3, .width = 4, .features = 16});
  model.eval();
  Generator gen(5);
  const Tensor x = Tensor::rand({2, 1, 28, 28}, gen, Device::cpu, -1.0f, 1.0f);
  const Tensor baseline = Tensor::full({1, 1, 28, 28}, -1.0f);
  const std::vector<int64_t> target{0, 2};
  const LogitsFn logits = [&](const Tensor& images) { return model.logits(images); };
  const std::vector<float> ig = integrated_gradients(logits, x, baseline, target, 256).to_host();
  NoGrad no_grad;
  const std::vector<float> at_x = model.logits(x).to_host(), at_b = model.logits(baseline).to_host();
  for (int64_t i = 0; i < 2; ++i) {
    double total = 0;
    for (int64_t p = 0; p < 784; ++p) total += ig[i * 784 + p];
    const double want = at_x[i * 3 + target[i]] - at_b[target[i]];
    // A ReLU network is piecewise linear: the midpoint sum errs only on the path's pieces that
    // cross a kink, a few percent of the change at 256 steps.
    EXPECT_NEAR(total, want, 0.05 * std::fabs(want) + 1e-3) << "image " << i;
  }
}

TEST(Attribution, GradCamOfAOneBlockNetByHand) {
  // The block is the image itself (K = 2 maps of 4x4); the head averages each map and mixes
  // them with V. d score / d A_k = V[t, k] / 16 everywhere, so the map is ReLU(sum_k V[t, k] A_k / 16).
  Generator gen(6);
  const Tensor v = Tensor::randn({3, 2}, gen);
  const BlockSplit model{[](const Tensor& x) { return x; },
                         [&](const Tensor& a) {
                           return linear(mean(a, {2, 3}), v);
                         }};
  const Tensor x = Tensor::randn({2, 2, 4, 4}, gen);
  const std::vector<int64_t> target{1, 2};
  const std::vector<float> cam = grad_cam(model, x, target).to_host();
  const std::vector<float> vs = v.to_host(), xs = x.to_host();
  ASSERT_EQ(cam.size(), 32u);
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t p = 0; p < 16; ++p) {
      const float s =
          (vs[target[i] * 2] * xs[(i * 2) * 16 + p] + vs[target[i] * 2 + 1] * xs[(i * 2 + 1) * 16 + p]) / 16;
      EXPECT_NEAR(cam[i * 16 + p], std::max(0.0f, s), 1e-6f) << "image " << i << " pixel " << p;
    }
  }
}

TEST(Attribution, BilinearUpsamplingOfTwoPixels) {
  // Sampling at pixel centres: 2 -> 4 puts the outer samples on the edge values and the inner
  // ones a quarter of the way in.
  const Tensor row = Tensor::from_host({1, 1, 1, 2}, {4.0f, 8.0f});
  expect_near_all(upsample_bilinear(row, 1, 4).to_host(), {4.0f, 5.0f, 7.0f, 8.0f}, 1e-6f);
}

TEST(Attribution, ClassifierSplitAtABlockGivesTheSameLogits) {
  Classifier model({.image_size = 32, .channels = 3, .num_classes = 2, .width = 4, .features = 8});
  model.eval();
  Generator gen(7);
  const Tensor x = Tensor::randn({3, 3, 32, 32}, gen);
  NoGrad no_grad;
  const std::vector<float> whole = model.logits(x).to_host();
  for (const char* block : {"block1", "block2"}) {
    expect_near_all(model.logits_from_block(block, model.block_output(x, block)).to_host(), whole, 0.0f);
  }
  EXPECT_NE(cfgan_test::error_of([&] { model.block_output(x, "block3"); }).find("no block 'block3'"),
            std::string::npos);
}

TEST(Pointing, ScoresByHand) {
  const std::vector<uint8_t> mask{1, 1, 0, 0, 0, 0, 0, 0};  // m = 1/4
  const std::vector<float> uniform(8, 2.0f), inside{1, 3, 0, 0, 0, 0, 0, 0}, outside{0, 0, 1, 1, 1, 1, 1, 1};
  EXPECT_NEAR(pointing_score(uniform.data(), mask.data(), 8), 0.0, 1e-12);
  EXPECT_NEAR(pointing_score(inside.data(), mask.data(), 8), 1.0, 1e-12);
  EXPECT_NEAR(pointing_score(outside.data(), mask.data(), 8), -1.0 / 3.0, 1e-12);  // (0 - 1/4) / (3/4)
  // e = 1/2: (1/2 - 1/4) / (3/4). Built element by element: GCC 12.2 with -march=native (AVX-512)
  // compiled the literal {1, 0, 1, 0, 0, 0, 0, 0} here as its first two values repeated.
  std::vector<float> half(8, 0.0f);
  half[0] = half[2] = 1.0f;
  EXPECT_NEAR(pointing_score(half.data(), mask.data(), 8), 1.0 / 3.0, 1e-12);
  const std::vector<float> zero(8, 0.0f);
  EXPECT_TRUE(std::isnan(pointing_score(zero.data(), mask.data(), 8)));
  const std::vector<uint8_t> full(8, 1);
  EXPECT_TRUE(std::isnan(pointing_score(uniform.data(), full.data(), 8)));
}

TEST(Pointing, MagnitudesSumAbsoluteValuesOverChannels) {
  const Tensor maps = Tensor::from_host({1, 2, 1, 2}, {1.0f, -2.0f, -3.0f, 0.5f});
  expect_near_all(map_magnitudes(maps), {4.0f, 2.5f}, 0.0f);
}

// A small random 32-px RGB DCGAN generator in eval mode, and a classifier for it.
struct SmallModels {
  std::shared_ptr<GanGenerator> g;
  std::shared_ptr<Classifier> c;
  explicit SmallModels(int64_t num_classes = 0) {
    // Layers draw their default initialization from the global generator: seeded here, the
    // models are the same whichever tests ran before in this process (gpu-check runs the
    // suite in a few processes, ctest in one per test).
    manual_seed(0);
    g = make_generator({.image_size = 32, .channels = 3, .z_dim = 8, .width = 8, .num_classes = num_classes});
    Generator gen(11);
    dcgan_init(*g, gen);
    g->eval();
    c = std::make_shared<Classifier>(
        ClassifierSpec{.image_size = 32, .channels = 3, .num_classes = 3, .width = 4, .features = 8});
    c->eval();
    // A random generator's images are alike, so a random head's bias would pick one class for
    // all of them; centring the logits over generated images lets each class win somewhere.
    NoGrad no_grad;
    std::vector<int32_t> labels;
    for (int32_t i = 0; i < 256 && num_classes > 0; ++i) labels.push_back(i % static_cast<int32_t>(num_classes));
    const Tensor mean_logits = mean(c->logits(g->generate(Tensor::randn({256, 8}, gen), labels)), {0});
    for (auto& [name, t] : c->named_parameters()) {
      if (name == "head.bias") t.copy_(t - mean_logits);
    }
  }
};

TEST(Search, InversionRecoversAGeneratedImage) {
  SmallModels m;
  Generator gen(12);
  Tensor images;
  {
    NoGrad no_grad;
    images = m.g->generate(Tensor::randn({2, 8}, gen));
  }
  InversionOptions options;
  options.steps = 150;
  options.restarts = 2;
  const Inversion inv = invert(*m.g, *m.c, images, {}, options);
  ASSERT_EQ(inv.images.shape(), images.shape());
  for (size_t i = 0; i < inv.pixel_error.size(); ++i) {
    // The image is exactly reachable (the inversions reach ~1e-8); images of two noise draws
    // differ by ~1e-2 in mean squared pixel value, so 1e-5 means the inversion found the image.
    EXPECT_LT(inv.pixel_error[i], 1e-5f) << "image " << i;
  }
}

TEST(Search, ConditionalInversionMovesTheClassEmbeddingToo) {
  // Inverted from class 0's code, an image made with class 1's: the embedding columns move off
  // class 0's code (a frozen embedding would leave them equal to it), and the image is reached.
  SmallModels m(2);
  Generator gen(15);
  Tensor images, start_code;
  {
    NoGrad no_grad;
    images = m.g->generate(Tensor::randn({2, 8}, gen), {1, 1});
    start_code = narrow(m.g->configuration(Tensor::zeros({1, 8}), {0}), 1, 8, m.g->configuration_dim() - 8);
  }
  InversionOptions options;
  options.steps = 150;
  options.restarts = 2;
  const Inversion inv = invert(*m.g, *m.c, images, {0, 0}, options);
  const std::vector<float> code = start_code.to_host(), found = inv.configuration.to_host();
  const int64_t dim = m.g->configuration_dim();
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_LT(inv.pixel_error[i], 1e-5f) << "image " << i;
    double moved = 0;
    for (int64_t d = 8; d < dim; ++d) moved = std::max<double>(moved, std::fabs(found[i * dim + d] - code[d - 8]));
    EXPECT_GT(moved, 1e-3) << "image " << i << ": the class embedding did not move";
  }
}

TEST(Search, TransitionStartsAtTheReconstructionAndEndsAtTheCounterfactual) {
  SmallModels m(2);
  Generator gen(13);
  NoGrad no_grad;
  const Tensor from = m.g->configuration(Tensor::randn({1, 8}, gen), {0});
  const Tensor to = m.g->configuration(Tensor::randn({1, 8}, gen), {1});
  const Transition t = transition(*m.g, *m.c, from, to, 6, 1);
  ASSERT_EQ(t.pictures.dim(0), 6);
  expect_near_all(narrow(t.pictures, 0, 0, 1).to_host(), m.g->decode(from).to_host(), 1e-6f);
  expect_near_all(narrow(t.pictures, 0, 5, 1).to_host(), m.g->decode(to).to_host(), 1e-6f);
  ASSERT_EQ(t.probabilities.size(), 6u);
  int64_t first = -1;
  for (int64_t k = 0; k < 6 && first < 0; ++k) {
    const auto& p = t.probabilities[k];
    if (std::max_element(p.begin(), p.end()) - p.begin() == 1) first = k;
  }
  EXPECT_EQ(t.flip_step, first);
}

TEST(Search, CounterfactualsReachTheirTargetAndTheStepAllocatesNothing) {
  SmallModels m;
  Generator gen(14);
  // Among 64 generated images, one the classifier puts in class a and one in class b != a:
  // class b is reachable from the first image's configuration, because some z decodes to it.
  Tensor zs;
  std::vector<int64_t> predicted;
  {
    NoGrad no_grad;
    zs = Tensor::randn({64, 8}, gen);
    for (const auto& p : class_probabilities(*m.c, m.g->generate(zs))) {
      predicted.push_back(std::max_element(p.begin(), p.end()) - p.begin());
    }
  }
  int32_t other = 1;
  while (other < 64 && predicted[other] == predicted[0]) ++other;
  ASSERT_LT(other, 64) << "the fixture's classifier gives one class to every image";
  Inversion start;
  {
    NoGrad no_grad;
    start.configuration = index_select(zs, 0, {0});
    start.images = m.g->decode(start.configuration);
  }
  SearchOptions so;
  so.steps = 150;
  so.restarts = 2;
  so.proximity = 0.0f;  // nothing holds the search back: the margin alone must be reachable
  so.margin = 0.5f;
  const std::vector<Counterfactual> found = search_counterfactuals(*m.g, *m.c, start, {{predicted[other]}}, so);
  ASSERT_EQ(found.size(), 2u);
  for (const Counterfactual& c : found) {
    EXPECT_EQ(c.target, predicted[other]);
    EXPECT_TRUE(c.valid) << "restart " << c.restart;
    EXPECT_EQ(c.valid,
              std::max_element(c.probabilities.begin(), c.probabilities.end()) - c.probabilities.begin() == c.target);
  }
  const Inversion& inv = start;

  // The search loop's step, once warm, takes every buffer from the allocator's cache.
  FrozenParameters frozen_g(*m.g), frozen_c(*m.c);
  LatentSearch search(
      *m.g, inv.configuration,
      [&](const Tensor& x, const Tensor& z) {
        return mean(square(x - inv.images), {1, 2, 3}) + mean(square(z), {1});
      },
      0.01f);
  for (int k = 0; k < 3; ++k) search.step();
  const int64_t before = Allocator::get(Device::cpu).stats().system_allocations;
  for (int k = 0; k < 5; ++k) search.step();
  EXPECT_EQ(Allocator::get(Device::cpu).stats().system_allocations, before);
}

}  // namespace

namespace {

TEST(CodeFlips, EachFlipIsTheModelsCounterfactualAndTheBookkeepingAgrees) {
  CdvaeSpec spec;
  spec.image_size = 32, spec.channels = 3, spec.z_dim = 4, spec.width = 4;
  spec.attributes = {"Red", "Large", "Round"};
  spec.prior = {0.4f, 0.5f, 0.5f};
  CdvaeGan model(spec);
  model.eval();
  SmallModels m;
  Generator gen(16);
  const Tensor images = Tensor::rand({6, 3, 32, 32}, gen, Device::cpu, -1.0f, 1.0f);
  const std::vector<int32_t> labels{0, 1, 2, 0, 1, 2};
  const CodeFlips f = flip_codes(model, *m.c, images, labels);
  ASSERT_EQ(f.attributes, spec.attributes);
  ASSERT_EQ(f.flipped.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    expect_near_all(f.flipped[k].to_host(), model.counterfactual(images, {k}).to_host(), 0.0f);
    const std::vector<std::vector<float>> p = class_probabilities(*m.c, f.flipped[k]);
    int64_t fixed = 0;
    for (int64_t i = 0; i < 6; ++i) {
      const bool says_true = std::max_element(p[i].begin(), p[i].end()) - p[i].begin() == labels[i];
      EXPECT_EQ(f.fixed[k][i] != 0, says_true) << "attribute " << k << " image " << i;
      EXPECT_FLOAT_EQ(f.p_true[k][i], p[i][labels[i]]);
      fixed += says_true;
    }
    EXPECT_DOUBLE_EQ(f.fixes[k], fixed / 6.0);
  }
  for (int64_t i = 0; i < 6; ++i) {
    if (f.best[i] < 0) {
      for (int k = 0; k < 3; ++k) EXPECT_EQ(f.fixed[k][i], 0) << "image " << i << " has a fixing flip " << k;
      EXPECT_TRUE(f.difference[i].empty());
      continue;
    }
    EXPECT_EQ(f.fixed[f.best[i]][i], 1);
    EXPECT_EQ(f.difference[i].size(), 32u * 32u);
    // The closest of the fixing flips to the reconstruction.
    auto l1 = [&](int k) {
      NoGrad no_grad;
      return mean(abs(narrow(f.flipped[k], 0, i, 1) - narrow(f.reconstructions, 0, i, 1))).item();
    };
    for (int k = 0; k < 3; ++k) {
      if (f.fixed[k][i]) {
        EXPECT_GE(l1(k), l1(f.best[i])) << "image " << i << " attribute " << k;
      }
    }
  }
}

}  // namespace
