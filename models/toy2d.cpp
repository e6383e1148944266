#include "models/toy2d.h"

#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/linalg.h"
#include "models/regularizers.h"

namespace cfgan {
namespace {

// Uniform integers in [0, count): floor of uniform floats, clamped because a float
// uniform may round up to exactly 1.
std::vector<int32_t> random_indices(int64_t n, int64_t count, Generator& gen) {
  const std::vector<float> u = Tensor::rand({n}, gen).to_host();
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    out[i] = static_cast<int32_t>(std::min<int64_t>(count - 1, static_cast<int64_t>(u[i] * count)));
  }
  return out;
}

// Rows `modes[i]` of the centers plus std * N(0, 1) noise -> (n, 2).
Tensor points_at(const ToyMixture& mixture, const std::vector<int32_t>& modes, Generator& gen) {
  const int64_t n = static_cast<int64_t>(modes.size());
  std::vector<float> xy = Tensor::randn({n, 2}, gen, Device::cpu, 0.0f, mixture.std).to_host();
  for (int64_t i = 0; i < n; ++i) {
    xy[2 * i] += mixture.centers[2 * modes[i]];
    xy[2 * i + 1] += mixture.centers[2 * modes[i] + 1];
  }
  return Tensor::from_host({n, 2}, xy);
}

// The rows of `features` (N, d) scaled to unit length, as doubles; a zero row stays zero.
Matrix normalized_rows(const Tensor& features) {
  const Tensor f = flatten(features.detach(), 1);
  const std::vector<float> v = f.to_host();
  Matrix x(f.dim(0), f.dim(1));
  for (int64_t i = 0; i < x.rows; ++i) {
    double norm = 0;
    for (int64_t j = 0; j < x.cols; ++j) norm += double(v[i * x.cols + j]) * v[i * x.cols + j];
    norm = std::sqrt(norm);
    for (int64_t j = 0; j < x.cols; ++j) x(i, j) = norm > 0 ? v[i * x.cols + j] / norm : 0.0;
  }
  return x;
}

// The indices of the rows of `f` with a non-zero norm; adds the all-zero rows to `dead`.
std::vector<int32_t> live_rows(const Tensor& f, int64_t& dead) {
  const std::vector<float> v = f.to_host();
  const int64_t d = f.dim(1);
  std::vector<int32_t> live;
  for (int64_t i = 0; i < f.dim(0); ++i) {
    bool zero = true;
    for (int64_t j = 0; j < d && zero; ++j) zero = v[i * d + j] == 0.0f;
    if (zero) ++dead;
    else live.push_back(static_cast<int32_t>(i));
  }
  return live;
}

}  // namespace

// ---- data ----

ToyMixture make_toy_mixture(const std::string& name) {
  ToyMixture m{.name = name};
  if (name == "ring") {
    m.std = 0.01f;
    for (int k = 0; k < 8; ++k) {
      const double angle = 2.0 * M_PI * k / 8.0;
      m.centers.push_back(static_cast<float>(std::cos(angle)));
      m.centers.push_back(static_cast<float>(std::sin(angle)));
    }
  } else if (name == "grid") {
    m.std = 0.05f;
    for (int i = -2; i <= 2; ++i) {
      for (int j = -2; j <= 2; ++j) {
        m.centers.push_back(2.0f * i);
        m.centers.push_back(2.0f * j);
      }
    }
  } else {
    fail("--data: expected ring or grid, got '", name, "'");
  }
  return m;
}

Tensor sample_mixture(const ToyMixture& mixture, int64_t n, Generator& gen) {
  return points_at(mixture, random_indices(n, mixture.modes(), gen), gen);
}

ToyData::ToyData(ToyMixture mixture, int64_t per_mode, uint64_t seed)
    : mixture_(std::move(mixture)), per_mode_(per_mode), gen_(seed ^ 0xda7aull) {
  CFGAN_CHECK(per_mode >= 0, "--per-mode: must be >= 0 (0: unlimited), got ", per_mode);
  if (per_mode == 0) return;
  std::vector<int32_t> modes;
  for (int32_t k = 0; k < mixture_.modes(); ++k) modes.insert(modes.end(), static_cast<size_t>(per_mode), k);
  set_ = points_at(mixture_, modes, gen_);
}

Tensor ToyData::next(int64_t batch) {
  if (per_mode_ == 0) return sample_mixture(mixture_, batch, gen_);
  return index_select(set_, 0, random_indices(batch, set_.dim(0), gen_));
}

// ---- models ----

ToyGenerator::ToyGenerator(int64_t z_dim, int64_t hidden, int64_t layers) : z_dim_(z_dim) {
  CFGAN_CHECK(z_dim >= 1 && hidden >= 2 && layers >= 1, "toy generator: expected z_dim >= 1, hidden >= 2, ",
              "layers >= 1, got ", z_dim, ", ", hidden, ", ", layers);
  for (int64_t i = 0; i <= layers; ++i) {
    layers_.push_back(std::make_shared<Linear>(i == 0 ? z_dim : hidden, i == layers ? 2 : hidden));
    register_module(std::to_string(i), layers_.back());
  }
}

Tensor ToyGenerator::generate(const Tensor& z, Tensor* features) {
  CFGAN_CHECK(z.ndim() == 2 && z.dim(1) == z_dim_, "toy generator: expected z (N, ", z_dim_, "), got ",
              z.shape().str());
  Tensor h = z;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) h = relu(layers_[i]->forward(h));
  if (features) *features = h;
  return layers_.back()->forward(h);
}

ToyDiscriminator::ToyDiscriminator(int64_t hidden, int64_t layers) : feature_layer_(layers >= 2 ? 1 : 0) {
  CFGAN_CHECK(hidden >= 2 && layers >= 1, "toy discriminator: expected hidden >= 2, layers >= 1, got ", hidden,
              ", ", layers);
  for (int64_t i = 0; i <= layers; ++i) {
    layers_.push_back(std::make_shared<Linear>(i == 0 ? 2 : hidden, i == layers ? 1 : hidden));
    register_module(std::to_string(i), layers_.back());
  }
}

Tensor ToyDiscriminator::score(const Tensor& x, Tensor* features) {
  CFGAN_CHECK(x.ndim() == 2 && x.dim(1) == 2, "toy discriminator: expected points (N, 2), got ", x.shape().str());
  Tensor h = x;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    h = leaky_relu(layers_[i]->forward(h), 0.2f);
    if (features && i == feature_layer_) *features = h;
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

ToyStepStats ToyGan::step(const Tensor& real) {
  const bool regularize = config_.ur_weight > 0 || config_.er_weight > 0;
  Tensor f_g, f_d;
  opt_d_->zero_grad();
  const Tensor z = Tensor::randn({config_.batch, config_.z_dim}, noise_);
  const Tensor fake = g_->generate(z, regularize ? &f_g : nullptr);
  const Tensor d_loss = discriminator_loss(config_.loss, d_->score(real), d_->score(fake.detach()));
  d_loss.backward();
  opt_d_->step();

  // The f_D terms reach G through D; D's gradients from them are dropped by the next
  // zero_grad, so D is trained by the adversarial loss alone.
  opt_g_->zero_grad();
  const Tensor g_loss = generator_loss(config_.loss, d_->score(fake, regularize ? &f_d : nullptr));
  Tensor reg = Tensor::scalar(0.0f);
  if (config_.ur_weight > 0) {
    reg = reg + config_.ur_weight * (uniformity_regularizer(f_g) + uniformity_regularizer(f_d));
  }
  if (config_.er_weight > 0) {
    reg = reg + config_.er_weight * (entropy_regularizer(f_g) + entropy_regularizer(f_d));
  }
  (g_loss + reg).backward();
  opt_g_->step();
  return {.d_loss = d_loss.item(), .g_loss = g_loss.item(), .reg = reg.item()};
}

Tensor ToyGan::sample(int64_t n, Generator& gen) {
  NoGrad no_grad;
  return g_->generate(Tensor::randn({n, config_.z_dim}, gen));
}

// ---- metrics ----

ModeMetrics mode_metrics(const ToyMixture& mixture, const Tensor& samples) {
  CFGAN_CHECK(samples.ndim() == 2 && samples.dim(1) == 2, "mode_metrics: expected samples (n, 2), got ",
              samples.shape().str());
  const int64_t n = samples.dim(0), modes = mixture.modes();
  CFGAN_CHECK(n >= 1, "mode_metrics: no samples");
  const std::vector<float> xy = samples.to_host();
  ModeMetrics m;
  m.histogram.assign(static_cast<size_t>(modes), 0);
  int64_t hq = 0;
  for (int64_t i = 0; i < n; ++i) {
    double best = std::numeric_limits<double>::infinity();
    int64_t nearest = -1;
    for (int64_t k = 0; k < modes; ++k) {
      const double dx = xy[2 * i] - mixture.centers[2 * k], dy = xy[2 * i + 1] - mixture.centers[2 * k + 1];
      const double dist = std::sqrt(dx * dx + dy * dy);
      if (dist < best) best = dist, nearest = k;  // NaN never compares less: a NaN sample has no mode
    }
    if (nearest >= 0 && best <= 3.0 * mixture.std) ++m.histogram[nearest], ++hq;
  }
  m.high_quality = double(hq) / double(n);
  m.kl = std::log(double(modes));
  if (hq == 0) return m;
  m.kl = 0;
  for (int64_t count : m.histogram) {
    if (count == 0) continue;
    ++m.modes_covered;
    const double p = double(count) / double(hq);
    m.kl += p * std::log(p * double(modes));
  }
  return m;
}

double gaussian_entropy(const Tensor& features, double eps) {
  const Matrix x = normalized_rows(features);
  CFGAN_CHECK(x.rows >= 2, "gaussian_entropy: needs at least 2 rows, got ", x.rows);
  std::vector<double> mean(static_cast<size_t>(x.cols), 0.0);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t j = 0; j < x.cols; ++j) mean[j] += x(i, j) / double(x.rows);
  }
  // Only the upper triangle is summed and then mirrored: symmetric_eigen wants exact symmetry.
  Matrix cov(x.cols, x.cols);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t a = 0; a < x.cols; ++a) {
      const double ca = x(i, a) - mean[a];
      for (int64_t b = a; b < x.cols; ++b) cov(a, b) += ca * (x(i, b) - mean[b]);
    }
  }
  for (int64_t a = 0; a < x.cols; ++a) {
    for (int64_t b = a; b < x.cols; ++b) cov(b, a) = cov(a, b) /= double(x.rows - 1);
  }
  double entropy = 0;
  for (double value : symmetric_eigen(cov).values) entropy += 0.5 * std::log(std::max(value, 0.0) + eps);
  return entropy;
}

FeatureInfo feature_information(ToyGan& gan, int64_t batches, Generator& gen) {
  CFGAN_CHECK(batches >= 1, "feature_information: needs at least one batch");
  NoGrad no_grad;
  const int64_t batch = gan.config().batch;
  int64_t dead_g = 0, dead_d = 0, used_g = 0, used_d = 0;
  std::vector<Tensor> all_g, all_d;
  FeatureInfo sum;
  for (int64_t b = 0; b < batches; ++b) {
    Tensor f_g, f_d;
    const Tensor fake = gan.generator().generate(Tensor::randn({batch, gan.config().z_dim}, gen), &f_g);
    gan.discriminator().score(fake, &f_d);
    const std::vector<int32_t> live_g = live_rows(f_g, dead_g), live_d = live_rows(f_d, dead_d);
    // UR needs two halves of >= 2 rows each.
    if (live_g.size() >= 4) {
      f_g = index_select(f_g, 0, live_g);
      sum.ur_g += uniformity_regularizer(f_g).item(), sum.er_g += entropy_regularizer(f_g).item(), ++used_g;
      sum.log_norm_g -= mean_log_norm(f_g);  // mean_log_norm is ER's sign: -mean log |f|
      all_g.push_back(f_g);
    }
    if (live_d.size() >= 4) {
      f_d = index_select(f_d, 0, live_d);
      sum.ur_d += uniformity_regularizer(f_d).item(), sum.er_d += entropy_regularizer(f_d).item(), ++used_d;
      sum.log_norm_d -= mean_log_norm(f_d);
      all_d.push_back(f_d);
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN(), n = double(batches * batch);
  FeatureInfo info{.dead_g = double(dead_g) / n, .dead_d = double(dead_d) / n};
  info.ur_g = used_g ? sum.ur_g / double(used_g) : nan;
  info.er_g = used_g ? sum.er_g / double(used_g) : nan;
  info.log_norm_g = used_g ? sum.log_norm_g / double(used_g) : nan;
  info.ur_d = used_d ? sum.ur_d / double(used_d) : nan;
  info.er_d = used_d ? sum.er_d / double(used_d) : nan;
  info.log_norm_d = used_d ? sum.log_norm_d / double(used_d) : nan;
  info.entropy_g = used_g ? gaussian_entropy(concat(all_g, 0)) : nan;
  info.entropy_d = used_d ? gaussian_entropy(concat(all_d, 0)) : nan;
  return info;
}

}  // namespace cfgan
