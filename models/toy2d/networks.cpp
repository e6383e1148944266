#include "models/toy2d/networks.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops.h"

namespace cfgan {

// ---- models ----

ToyGenerator::ToyGenerator(int64_t z_dim, int64_t hidden, int64_t layers) : z_dim_(z_dim) {
  CFGAN_CHECK(z_dim >= 1 && hidden >= 2 && layers >= 1, "toy generator: expected z_dim >= 1, hidden >= 2, ",
              "layers >= 1, got ", z_dim, ", ", hidden, ", ", layers);
  for (int64_t i = 0; i <= layers; ++i) {
    layers_.push_back(std::make_shared<Linear>(i == 0 ? z_dim : hidden, i == layers ? 2 : hidden));
    register_module(std::to_string(i), layers_.back());
  }
}

Tensor ToyGenerator::configuration(const Tensor& z, const std::vector<int32_t>& labels) {
  CFGAN_CHECK(labels.empty(), "toy generator: unconditional, got ", labels.size(), " labels");
  return z;
}

Tensor ToyGenerator::decode(const Tensor& z, FeatureTap tap) {
  CFGAN_CHECK(z.ndim() == 2 && z.dim(1) == z_dim_, "toy generator: expected z (N, ", z_dim_, "), got ",
              z.shape().str());
  Tensor h = z;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    h = relu(layers_[i]->forward(h));
    if (tap.out && static_cast<int>(i) == tap.block) *tap.out = h;
  }
  return layers_.back()->forward(h);
}

ToyDiscriminator::ToyDiscriminator(int64_t hidden, int64_t layers) {
  CFGAN_CHECK(hidden >= 2 && layers >= 1, "toy discriminator: expected hidden >= 2, layers >= 1, got ", hidden, ", ",
              layers);
  for (int64_t i = 0; i <= layers; ++i) {
    layers_.push_back(std::make_shared<Linear>(i == 0 ? 2 : hidden, i == layers ? 1 : hidden));
    register_module(std::to_string(i), layers_.back());
  }
}

Tensor ToyDiscriminator::score(const Tensor& x, const std::vector<int32_t>& labels, FeatureTap tap) {
  CFGAN_CHECK(x.ndim() == 2 && x.dim(1) == 2, "toy discriminator: expected points (N, 2), got ", x.shape().str());
  CFGAN_CHECK(labels.empty(), "toy discriminator: unconditional, got ", labels.size(), " labels");
  // A one-layer D has no block 1: its only hidden layer stands in.
  const int block = std::min(tap.block, num_blocks() - 1);
  Tensor h = x;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    h = leaky_relu(layers_[i]->forward(h), 0.2f);
    if (tap.out && static_cast<int>(i) == block) *tap.out = h;
  }
  return reshape(layers_.back()->forward(h), {x.dim(0)});
}

// ---- training ----

ToyGan::ToyGan(const ToyGanConfig& config) : config_(config), noise_(config.seed ^ 0x5eedull) {
  CFGAN_CHECK(config.batch >= 4 || config.ur_weight == 0, "--batch: UR needs at least 4 samples per batch, got ",
              config.batch);
  manual_seed(config.seed);  // layers draw their initialization from the default generator
  g_ = std::make_shared<ToyGenerator>(config.z_dim, config.hidden, config.layers);
  d_ = std::make_shared<ToyDiscriminator>(config.hidden, config.layers);
  const AdamOptions adam{.lr = config.lr, .beta1 = config.beta1, .beta2 = config.beta2};
  opt_g_ = std::make_unique<Adam>(g_->named_parameters(), adam);
  opt_d_ = std::make_unique<Adam>(d_->named_parameters(), adam);
}

GanStepStats ToyGan::step(const Tensor& real) {
  const Tensor z = Tensor::randn({config_.batch, config_.z_dim}, noise_);
  return gan_train_step(*g_, *d_, *opt_g_, *opt_d_, config_.loss, real, z, {},
                        GanRegularization{.ur_weight = config_.ur_weight, .er_weight = config_.er_weight});
}

float ToyGan::regularization(const GanStepStats& s) const {
  return config_.ur_weight * (s.ur_g + s.ur_d) + config_.er_weight * (s.er_g + s.er_d);
}

Tensor ToyGan::sample(int64_t n, Generator& gen) {
  NoGrad no_grad;
  return g_->generate(Tensor::randn({n, config_.z_dim}, gen));
}

}  // namespace cfgan
