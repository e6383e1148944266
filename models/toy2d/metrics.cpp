#include "models/toy2d/metrics.h"

#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "models/linalg.h"
#include "models/regularizers.h"

namespace cfgan {
namespace {

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
    if (zero)
      ++dead;
    else
      live.push_back(static_cast<int32_t>(i));
  }
  return live;
}

}  // namespace

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
    ToyGenerator& g = gan.generator();
    ToyDiscriminator& d = gan.discriminator();
    const Tensor fake =
        g.generate(Tensor::randn({batch, gan.config().z_dim}, gen), {}, {g.default_feature_block(), &f_g});
    d.score(fake, {}, {d.default_feature_block(), &f_d});
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
