// The 2-D toy GAN experiments for the information regularizers (models/regularizers.h):
// mixtures of Gaussians whose modes can be counted, small training sets drawn from them
// (data scarcity), MLP generators and discriminators that expose one hidden layer's
// activations as the feature maps UR and ER act on, and the usual toy metrics
// (modes covered, high-quality samples, KL of the mode histogram to uniform).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/optim/optimizer.h"
#include "models/gan_loss.h"

namespace cfgan {

// ---- data ----

// Equal-weight isotropic Gaussians: "ring" (8 on the unit circle, std 0.01) or "grid"
// (25 at {-4,-2,0,2,4}^2, std 0.05).
struct ToyMixture {
  std::string name{};
  std::vector<float> centers{};  // (modes, 2) row-major
  float std = 0.0f;
  int64_t modes() const { return static_cast<int64_t>(centers.size() / 2); }
};
ToyMixture make_toy_mixture(const std::string& name);  // errors name --data

// `n` points, each from a mode drawn uniformly at random -> (n, 2).
Tensor sample_mixture(const ToyMixture& mixture, int64_t n, Generator& gen);

// Real batches for training: from a fixed set of `per_mode` points per mode, drawn with
// replacement, or (per_mode == 0) fresh samples of the mixture every batch.
class ToyData {
 public:
  ToyData(ToyMixture mixture, int64_t per_mode, uint64_t seed);
  Tensor next(int64_t batch);
  const ToyMixture& mixture() const { return mixture_; }
  int64_t per_mode() const { return per_mode_; }
  const Tensor& training_set() const { return set_; }  // (modes * per_mode, 2); undefined when unlimited

 private:
  ToyMixture mixture_;
  int64_t per_mode_;
  Tensor set_;
  Generator gen_;
};

// ---- models ----

// MLP generator z (N, z_dim) -> (N, 2) with `layers` ReLU hidden layers of `hidden` units.
// Its feature map f_G is the last hidden layer's activations: the layer the output is
// read from, as the image generators use the block before the to-image block.
class ToyGenerator : public Module {
 public:
  ToyGenerator(int64_t z_dim, int64_t hidden, int64_t layers);
  Tensor generate(const Tensor& z, Tensor* features = nullptr);
  int64_t z_dim() const { return z_dim_; }

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  int64_t z_dim_;
};

// MLP discriminator (N, 2) -> logits (N) with LeakyReLU(0.2) hidden layers. Its feature
// map f_D is the second hidden layer's activations (the first when there is only one),
// matching the image discriminators' default of block 1.
class ToyDiscriminator : public Module {
 public:
  ToyDiscriminator(int64_t hidden, int64_t layers);
  Tensor score(const Tensor& x, Tensor* features = nullptr);

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  size_t feature_layer_;
};

// ---- training ----

struct ToyGanConfig {
  int64_t z_dim = 2, hidden = 128, layers = 3;
  int64_t batch = 64;
  float lr = 5e-4f, beta1 = 0.5f, beta2 = 0.999f;
  GanLoss loss = GanLoss::bce;
  float ur_weight = 0.0f, er_weight = 0.0f;  // 0: off; the paper's weights: UR 0.2, ER 0.5
  uint64_t seed = 1;
};

struct ToyStepStats {
  float d_loss = 0, g_loss = 0;  // g_loss: the adversarial part alone
  float reg = 0;                 // the UR / ER part of G's loss
};

// G, D, their optimizers and the noise stream of one run.
class ToyGan {
 public:
  explicit ToyGan(const ToyGanConfig& config);
  // One D update on `real` and a generated batch, then one G update with
  // L_G = adversarial + er_w (ER(f_G) + ER(f_D)) + ur_w (UR(f_G) + UR(f_D)).
  ToyStepStats step(const Tensor& real);
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

// ---- metrics ----

struct ModeMetrics {
  int64_t modes_covered = 0;     // modes nearest to at least one high-quality sample
  double high_quality = 0;       // fraction of samples within 3 std of their nearest mode
  double kl = 0;                 // KL(histogram of HQ samples over modes || uniform);
                                 // log(modes), its maximum, when no sample is HQ
  std::vector<int64_t> histogram{};  // HQ samples per mode
};
// `samples` (n, 2); non-finite samples are never high quality.
ModeMetrics mode_metrics(const ToyMixture& mixture, const Tensor& samples);

// 0.5 log det(Sigma + eps I): the entropy (up to constants) of a Gaussian with the
// covariance of the L2-normalized rows of `features` (N, d). eps keeps dead units from
// sending it to -inf.
constexpr double kEntropyEps = 1e-4;
double gaussian_entropy(const Tensor& features, double eps = kEntropyEps);

// The information in the regularized feature maps on held-out noise: UR and ER averaged
// over `batches` batches of the training batch size, and the Gaussian entropy over all
// of them together. f_D is D's feature map of the generated batch, as in training.
// A ReLU layer can be all zero for some z; such a sample has no direction (UR and ER see
// a zero vector), so those rows are counted (dead_*) and left out of the statistics.
struct FeatureInfo {
  double ur_g = 0, ur_d = 0, er_g = 0, er_d = 0, entropy_g = 0, entropy_d = 0;
  double dead_g = 0, dead_d = 0;  // fraction of samples whose feature vector is all zero
  // mean log |f|: ER's unbounded term on its own, so a falling ER can be read as growing
  // norms or as more spread across units
  double log_norm_g = 0, log_norm_d = 0;
};
FeatureInfo feature_information(ToyGan& gan, int64_t batches, Generator& gen);

}  // namespace cfgan
