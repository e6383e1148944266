// GAN metrics on feature matrices (rows = samples, columns = embedding dimensions),
// computed without any external network: the embedding is our own classifier's
// penultimate layer (models/classifier.h). Distances go through the engine's float
// GEMM in row blocks; every statistic is accumulated in double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/linalg.h"

namespace cfgan {

// Mean and covariance of the rows (covariance with 1/(n-1), as FID tools compute it).
struct GaussianFit {
  std::vector<double> mean;
  Matrix covariance;
};
GaussianFit fit_gaussian(const Matrix& features);

// Fréchet distance between Gaussians (Dowson & Landau 1982; FID, Heusel et al. 2017):
// |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2). The last trace is the sum
// of the square roots of that symmetric PSD matrix's eigenvalues, so only one matrix
// square root is formed. Accuracy: ~1e-15 relative, but a (near-)zero eigenvalue of the
// covariances comes out as +-1e-16 ||S|| and its root as ~1e-8 sqrt(||S||), so FD of equal
// rank-deficient inputs is that far from 0 (and may be slightly negative).
double frechet_distance(const GaussianFit& a, const GaussianFit& b);
double frechet_distance(const Matrix& real, const Matrix& fake);

// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD^2 with the kernel
// k(x, y) = (x.y / d + 1)^3, on `subsets` random pairs of subsets of size
// min(subset_size, n_real, n_fake) drawn without replacement (seeded). std is the spread
// of the per-subset estimates (divided by the count, as numpy's std). The cubic kernel is
// not scale-free: like FD, KID compares runs scored with one classifier only.
struct KidResult {
  double mean = 0, std = 0;
  int64_t subsets = 0, subset_size = 0;
};
KidResult kernel_inception_distance(const Matrix& real, const Matrix& fake, int64_t subsets = 100,
                                    int64_t subset_size = 1000, uint64_t seed = 0);

// Euclidean distance from every row to its k-th nearest other row (the row itself does
// not count), the radius of its k-NN ball.
std::vector<double> knn_radii(const Matrix& x, int64_t k);

// Improved precision and recall (Kynkäänniemi et al. 2019) with k_pr: precision is the
// fraction of fake samples inside some real k-NN ball, recall the fraction of real samples
// inside some fake k-NN ball. Density and coverage (Naeem et al. 2020) with k_dc: density
// = sum over fakes of the number of real balls holding it / (k n_fake), 1 on average
// when the two distributions agree (but (k+1)/k for two identical sets, since each real
// ball then also holds its own centre); coverage = fraction of real balls holding at
// least one fake. The real-real, fake-fake and real-fake distances are computed once.
struct ManifoldMetrics {
  double precision = 0, recall = 0, density = 0, coverage = 0;
};
ManifoldMetrics manifold_metrics(const Matrix& real, const Matrix& fake, int64_t k_pr = 3, int64_t k_dc = 5);

// Which classes a classifier assigns to generated samples, against the classes the real
// data holds (`classes`, e.g. {0, 3, 7}). Every prediction must be one of `classes`.
// covered: classes with at least one sample; well_covered: classes with at least half
// their fair share, count >= n / (2 C) (half, so that a perfectly balanced generator is
// not penalised for sampling noise); kl_uniform: KL(histogram || uniform over the C
// classes) in nats, 0 when balanced and log C when every sample is one class.
struct ClassHistogram {
  std::vector<int32_t> classes;
  std::vector<int64_t> counts;  // per entry of `classes`
  int64_t covered = 0, well_covered = 0;
  double kl_uniform = 0;
};
ClassHistogram class_histogram(const std::vector<int32_t>& predicted, const std::vector<int32_t>& classes);

// Area under the ROC curve of `scores` for the binary `positive` labels (the Mann-Whitney
// U statistic over P * N pairs, ties counted half); NaN when a class is absent.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace cfgan
