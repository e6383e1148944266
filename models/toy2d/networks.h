// The 2-D toy GAN: MLP generator and discriminator, as a GanGenerator and a
// GanDiscriminator whose feature blocks are hidden layers (the feature maps UR and ER act
// on), trained by the same step as the image GANs (gan_train_step).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/optim/optimizer.h"
#include "models/gan.h"
#include "models/gan_loss.h"
#include "models/gan_trainer.h"

namespace cfgan {

// MLP generator z (N, z_dim) -> (N, 2) with `layers` ReLU hidden layers of `hidden` units.
// Block i is hidden layer i (the last block is the output layer), so the default feature
// map f_G is the last hidden layer's activations: the layer the output is read from, as
// the image generators use the block before the to-image block. Unconditional: `labels`
// must be empty.
class ToyGenerator : public GanGenerator {
 public:
  ToyGenerator(int64_t z_dim, int64_t hidden, int64_t layers);
  Tensor configuration(const Tensor& z, const std::vector<int32_t>& labels) override;
  Tensor decode(const Tensor& z, FeatureTap tap = {}) override;
  int64_t configuration_dim() const override { return z_dim_; }
  int64_t z_dim() const override { return z_dim_; }
  int num_blocks() const override { return static_cast<int>(layers_.size()); }

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  int64_t z_dim_;
};

// MLP discriminator (N, 2) -> logits (N) with LeakyReLU(0.2) hidden layers; block i is
// hidden layer i. The default feature map f_D (block 1, as for the image discriminators)
// is the second hidden layer's activations; a one-layer D has only block 0.
class ToyDiscriminator : public GanDiscriminator {
 public:
  ToyDiscriminator(int64_t hidden, int64_t layers);
  Tensor score(const Tensor& x, const std::vector<int32_t>& labels = {}, FeatureTap tap = {}) override;
  int num_blocks() const override { return static_cast<int>(layers_.size()) - 1; }

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
};

struct ToyGanConfig {
  int64_t z_dim = 2, hidden = 128, layers = 3;
  int64_t batch = 64;
  float lr = 5e-4f, beta1 = 0.5f, beta2 = 0.999f;
  GanLoss loss = GanLoss::bce;
  float ur_weight = 0.0f, er_weight = 0.0f;  // 0: off; the usual weights: kUrWeight, kErWeight
  uint64_t seed = 1;
};

// G, D, their optimizers and the noise stream of one run.
class ToyGan {
 public:
  explicit ToyGan(const ToyGanConfig& config);
  // gan_train_step on `real` and a fresh noise batch: one D update, then one G update with
  // L_G = adversarial + er_w (ER(f_G) + ER(f_D)) + ur_w (UR(f_G) + UR(f_D)).
  GanStepStats step(const Tensor& real);
  // The UR / ER part of G's loss in `stats`.
  float regularization(const GanStepStats& stats) const;
  Tensor sample(int64_t n, Generator& gen);  // (n, 2), no graph
  ToyGenerator& generator() { return *g_; }
  ToyDiscriminator& discriminator() { return *d_; }
  const ToyGanConfig& config() const { return config_; }

 private:
  ToyGanConfig config_;
  std::shared_ptr<ToyGenerator> g_;
  std::shared_ptr<ToyDiscriminator> d_;
  std::unique_ptr<Adam> opt_g_, opt_d_;
  Generator noise_;
};

}  // namespace cfgan
