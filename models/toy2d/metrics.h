// What the toy experiments measure: mode coverage and sample quality against the known
// mixture, and the information in the regularized feature maps.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"
#include "models/toy2d/data.h"
#include "models/toy2d/networks.h"

namespace cfgan {

struct ModeMetrics {
  int64_t modes_covered = 0;         // modes nearest to at least one high-quality sample
  double high_quality = 0;           // fraction of samples within 3 std of their nearest mode
  double kl = 0;                     // KL(histogram of HQ samples over modes || uniform);
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
