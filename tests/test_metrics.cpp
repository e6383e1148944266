// GAN metrics against answers known by construction: the eigen-decomposition against
// the matrix it came from, FD against the closed form of the Gaussians the samples were
// drawn from, KID's unbiasedness, the k-NN manifold metrics on hand-built 2-D sets, and
// the class histogram's KL at its two extremes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "engine/error.h"
#include "models/linalg.h"
#include "models/metrics.h"

using namespace cfgan;

namespace {

// Standard normals by Box-Muller from a fixed engine: std::normal_distribution's
// sequence is not fixed by the standard, and these tests depend on exact samples.
class Normals {
 public:
  explicit Normals(uint64_t seed) : rng_(seed) {}
  double next() {
    const double u1 = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53, u2 = (rng_() >> 11) * 0x1.0p-53;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  std::mt19937_64 rng_;
};

Matrix random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  Normals normals(seed);
  Matrix m(rows, cols);
  for (double& v : m.values) v = normals.next();
  return m;
}

// n samples of N(mean, L L^T), with L the given factor.
Matrix gaussian_samples(int64_t n, const std::vector<double>& mean, const Matrix& factor, uint64_t seed) {
  const Matrix z = random_matrix(n, factor.cols, seed);
  Matrix x = multiply(z, transposed(factor));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < x.cols; ++j) x(i, j) += mean[j];
  }
  return x;
}

double max_abs_difference(const Matrix& a, const Matrix& b) {
  double m = 0;
  for (size_t i = 0; i < a.values.size(); ++i) m = std::max(m, std::abs(a.values[i] - b.values[i]));
  return m;
}

Matrix spd(int64_t n, uint64_t seed) {  // B B^T + 0.1 I: well inside the SPD cone
  const Matrix b = random_matrix(n, n, seed);
  Matrix a = multiply(b, transposed(b));
  for (int64_t i = 0; i < n; ++i) a(i, i) += 0.1;
  return a;
}

// Four blobs at (+-4, +-4) with standard deviation `spread`; `modes` of them, n points each.
Matrix blobs(int64_t modes, int64_t n, double spread, uint64_t seed) {
  Normals normals(seed);
  const double centres[4][2] = {{4, 4}, {-4, 4}, {-4, -4}, {4, -4}};
  Matrix x(modes * n, 2);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t j = 0; j < 2; ++j) x(i, j) = centres[i / n][j] + spread * normals.next();
  }
  return x;
}

}  // namespace

TEST(Metrics, EigenReconstructsSpdMatrix) {
  for (int64_t n : {1, 2, 7, 40, 129}) {
    const Matrix a = spd(n, 100 + n);
    const SymmetricEigen eig = symmetric_eigen(a);
    Matrix scaled = eig.vectors;
    for (int64_t c = 0; c < n; ++c) {
      for (int64_t r = 0; r < n; ++r) scaled(r, c) *= eig.values[c];
    }
    const double scale = trace(a);
    // Jacobi is backward stable: errors of a few ulps of ||A|| per entry, times n.
    EXPECT_LT(max_abs_difference(multiply(scaled, transposed(eig.vectors)), a), 1e-13 * scale) << n;
    EXPECT_LT(max_abs_difference(multiply(transposed(eig.vectors), eig.vectors), Matrix::identity(n)), 1e-13) << n;
    for (int64_t c = 1; c < n; ++c) EXPECT_LE(eig.values[c - 1], eig.values[c]) << n;
    const Matrix root = sqrt_psd(a);
    EXPECT_LT(max_abs_difference(multiply(root, root), a), 1e-12 * scale) << n;
    EXPECT_LT(max_abs_difference(root, transposed(root)), 1e-13 * scale) << n;
  }
}

TEST(Metrics, EigenKnownSpectra) {
  Matrix d(3, 3);
  d(0, 0) = 3, d(1, 1) = 1, d(2, 2) = 2;
  EXPECT_EQ(symmetric_eigen(d).values, (std::vector<double>{1, 2, 3}));
  // Repeated eigenvalues: any orthonormal basis will do, and it must still be one.
  const SymmetricEigen same = symmetric_eigen(Matrix::identity(5));
  for (double v : same.values) EXPECT_EQ(v, 1.0);
  EXPECT_LT(max_abs_difference(multiply(transposed(same.vectors), same.vectors), Matrix::identity(5)), 1e-15);
  // Rank one, v v^T with |v|^2 = 14: eigenvalues {0, 0, 14}; rounding may make the zeros
  // tiny negatives, which sqrt_psd clamps, so the root has no NaN and squares back.
  Matrix rank_one(3, 3);
  const double v[3] = {1, 2, 3};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) rank_one(i, j) = v[i] * v[j];
  }
  EXPECT_NEAR(symmetric_eigen(rank_one).values[2], 14.0, 1e-13);
  const Matrix root = sqrt_psd(rank_one);
  for (double x : root.values) EXPECT_TRUE(std::isfinite(x));
  EXPECT_LT(max_abs_difference(multiply(root, root), rank_one), 1e-12);

  Matrix skew = Matrix::identity(2);
  skew(0, 1) = 0.5;
  EXPECT_THROW(symmetric_eigen(skew), Error);
  EXPECT_THROW(symmetric_eigen(Matrix(2, 3)), Error);
}

TEST(Metrics, FrechetDistanceOfKnownGaussians) {
  // Non-commuting 2-D covariances, where tr((A^1/2 B A^1/2)^1/2) = sqrt(tr(AB) + 2 sqrt(det A det B))
  // (for a 2x2 PSD M, tr(M^1/2)^2 = tr M + 2 sqrt(det M)): a closed form that does not
  // use the eigen-solver under test.
  Matrix a(2, 2), b(2, 2);
  a(0, 0) = 2, a(0, 1) = a(1, 0) = 0.8, a(1, 1) = 1;
  b(0, 0) = 1, b(0, 1) = b(1, 0) = -0.5, b(1, 1) = 1.5;
  const std::vector<double> mean_a{0, 0}, mean_b{1, -0.5};
  const double det_a = 2 - 0.64, det_b = 1.5 - 0.25, tr_ab = trace(multiply(a, b));
  const double exact = 1.25 + trace(a) + trace(b) - 2 * std::sqrt(tr_ab + 2 * std::sqrt(det_a * det_b));
  EXPECT_NEAR(frechet_distance(GaussianFit{mean_a, a}, GaussianFit{mean_b, b}), exact, 1e-12);

  // From samples. The plug-in estimate has a standard deviation of about
  // sqrt((4 dmu^T (A+B) dmu + 2 tr(A^2) + 2 tr(B^2)) / n) (delta method: the mean term
  // moves by 2 dmu.e with e ~ N(0, (A+B)/n), the covariance term by tr((I - T) dS) with
  // |I - T| < 1 here and var tr(dS) = 2 tr(S^2) / n); n = 40000 gives 0.026, next to a
  // bias of tr(A+B)/n = 1.4e-4. Tolerance: 4 standard deviations.
  const int64_t n = 40000;
  const double spread = 3 * 1 + 2 * 0.3 * 1 * -0.5 + 2.5 * 0.25;  // dmu^T (A+B) dmu, A+B = [[3, .3], [.3, 2.5]]
  const double tol = 4 * std::sqrt((4 * spread + 2 * trace(multiply(a, a)) + 2 * trace(multiply(b, b))) / n);
  const Matrix xa = gaussian_samples(n, mean_a, sqrt_psd(a), 1), xb = gaussian_samples(n, mean_b, sqrt_psd(b), 2);
  EXPECT_NEAR(frechet_distance(xa, xb), exact, tol) << "exact " << exact;

  // 8-D, commuting covariances Q D Q^T (Q a random rotation): FD = |dmu|^2 + sum (sqrt(d_a) - sqrt(d_b))^2.
  const int64_t d = 8;
  const Matrix q = symmetric_eigen(spd(d, 7)).vectors;
  Matrix fa(d, d), fb(d, d);  // factors Q D^1/2
  std::vector<double> mu_a(d, 0.0), mu_b(d, 0.0);
  double closed = 0;
  for (int64_t i = 0; i < d; ++i) {
    const double da = 0.5 + 0.25 * i, db = 2.0 - 0.2 * i;
    mu_b[i] = i % 2 ? 0.3 : -0.2;
    closed += mu_b[i] * mu_b[i] + (std::sqrt(da) - std::sqrt(db)) * (std::sqrt(da) - std::sqrt(db));
    for (int64_t r = 0; r < d; ++r) fa(r, i) = q(r, i) * std::sqrt(da), fb(r, i) = q(r, i) * std::sqrt(db);
  }
  // Same estimate as above with |dmu|^2 = 0.52 and tr(A^2), tr(B^2) < 25: sd < 0.04;
  // the d(d+1)/2 covariance entries add a bias of about tr(A+B)/n = 6e-4.
  EXPECT_NEAR(frechet_distance(gaussian_samples(n, mu_a, fa, 3), gaussian_samples(n, mu_b, fb, 4)), closed, 0.15);
}

TEST(Metrics, FrechetDistanceOfIdenticalSetsIsZero) {
  Matrix x = random_matrix(500, 32, 11);
  for (int64_t i = 0; i < x.rows; ++i) x(i, 3) += 5;  // an offset column
  const double scale = trace(fit_gaussian(x).covariance);
  // Full rank: tr(2S - 2 (S^1/2 S S^1/2)^1/2) is lost only to rounding in two
  // eigen-decompositions, ~1e-15 relative each.
  EXPECT_NEAR(frechet_distance(x, x), 0.0, 1e-12 * scale);
  // Rank-deficient (one column a multiple of another, as collinear features give): the
  // zero eigenvalue comes out as +-1e-16 ||S|| and its square root as ~1e-8 sqrt(||S||),
  // the accuracy limit of any FD through matrix square roots.
  for (int64_t i = 0; i < x.rows; ++i) x(i, 5) = 2 * x(i, 0);
  EXPECT_NEAR(frechet_distance(x, x), 0.0, 1e-7 * std::sqrt(scale));
  // A dead (constant) feature is exactly 0 in the covariance and costs nothing.
  for (int64_t i = 0; i < x.rows; ++i) x(i, 5) = 1.0;
  EXPECT_NEAR(frechet_distance(x, x), 0.0, 1e-12 * scale);
}

TEST(Metrics, KidIsUnbiased) {
  const Matrix x = random_matrix(2000, 16, 21), y = random_matrix(2000, 16, 22);
  const KidResult same = kernel_inception_distance(x, y, 100, 1000, 5);
  EXPECT_EQ(same.subset_size, 1000);
  EXPECT_EQ(same.subsets, 100);
  // Each subset's estimate has mean 0 and spread `std`; their average is no wider.
  EXPECT_LT(std::abs(same.mean), 3 * same.std) << same.mean << " +- " << same.std;
  Matrix shifted = y;
  for (double& v : shifted.values) v += 0.5;
  const KidResult apart = kernel_inception_distance(x, shifted, 100, 1000, 5);
  EXPECT_GT(apart.mean, 10 * apart.std) << apart.mean << " +- " << apart.std;
  EXPECT_GT(apart.mean, 100 * std::abs(same.mean));
  // Small sets: the subset is all of the smaller set.
  EXPECT_EQ(kernel_inception_distance(x, random_matrix(50, 16, 23), 10).subset_size, 50);
}

namespace {

// The unbiased MMD^2 with KID's kernel over every row, in double: the definition itself.
double brute_force_mmd2(const Matrix& x, const Matrix& y) {
  auto k = [&](const double* a, const double* b) {
    double dot = 0;
    for (int64_t j = 0; j < x.cols; ++j) dot += a[j] * b[j];
    return std::pow(dot / static_cast<double>(x.cols) + 1.0, 3);
  };
  double xx = 0, yy = 0, xy = 0;
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < x.rows; ++j)
      if (i != j) xx += k(x.row(i), x.row(j));
  for (int64_t i = 0; i < y.rows; ++i)
    for (int64_t j = 0; j < y.rows; ++j)
      if (i != j) yy += k(y.row(i), y.row(j));
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < y.rows; ++j) xy += k(x.row(i), y.row(j));
  const double m = static_cast<double>(x.rows), n = static_cast<double>(y.rows);
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2.0 * xy / (m * n);
}

}  // namespace

TEST(Metrics, KidMatchesBruteForce) {
  // By hand: real rows 0, 0 and fake rows 1, 1 in one dimension: k = 1, 8 within the sets and
  // 1 across, so MMD^2 = 1 + 8 - 2 = 7 (every subset is the whole set).
  Matrix real(2, 1, 0.0), fake(2, 1, 1.0);
  const KidResult tiny = kernel_inception_distance(real, fake, 3, 10, 1);
  EXPECT_DOUBLE_EQ(tiny.mean, 7.0);
  EXPECT_DOUBLE_EQ(tiny.std, 0.0);
  // Subsets as large as the sets: each estimate is the full-set statistic (the Gram matrix
  // is float: 4e-9 relative measured).
  const Matrix x = random_matrix(120, 16, 41);
  Matrix y = random_matrix(120, 16, 42);
  for (double& v : y.values) v = 0.8 * v + 0.3;
  const double full = brute_force_mmd2(x, y);
  const KidResult whole = kernel_inception_distance(x, y, 4, 1000, 3);
  EXPECT_EQ(whole.subset_size, 120);
  EXPECT_NEAR(whole.mean, full, 1e-6 * std::abs(full)) << full;
  EXPECT_LT(whole.std, 1e-6 * std::abs(full));
  // Random subsets of 30: the subset statistic's expectation is the full-set one exactly (a
  // U-statistic), so the mean of 400 subsets lies within a few standard errors of it.
  const KidResult sub = kernel_inception_distance(x, y, 400, 30, 7);
  EXPECT_EQ(sub.subset_size, 30);
  EXPECT_NEAR(sub.mean, full, 4 * sub.std / std::sqrt(400.0)) << sub.mean << " +- " << sub.std;
  std::printf("brute force %.9f, whole sets %.9f, 400 subsets of 30 %.6f (std %.6f)\n", full, whole.mean, sub.mean,
              sub.std);
}

TEST(Metrics, KnnRadiiMatchBruteForce) {
  Matrix x = random_matrix(37, 5, 31);
  x(36, 0) = x(35, 0), x(36, 1) = x(35, 1), x(36, 2) = x(35, 2), x(36, 3) = x(35, 3), x(36, 4) = x(35, 4);
  for (int64_t k : {1, 2, 4}) {
    const std::vector<double> radii = knn_radii(x, k);
    for (int64_t i = 0; i < x.rows; ++i) {
      std::vector<double> d;
      for (int64_t j = 0; j < x.rows; ++j) {
        double s = 0;
        for (int64_t c = 0; c < x.cols; ++c) s += (x(i, c) - x(j, c)) * (x(i, c) - x(j, c));
        if (j != i) d.push_back(std::sqrt(s));
      }
      std::sort(d.begin(), d.end());
      EXPECT_NEAR(radii[i], d[k - 1], 1e-12) << "row " << i << " k " << k;
    }
  }
  EXPECT_EQ(knn_radii(x, 1)[36], 0.0);  // a duplicate is a neighbour at distance 0
}

TEST(Metrics, ManifoldOfIdenticalSets) {
  const Matrix x = random_matrix(300, 8, 41);
  const ManifoldMetrics m = manifold_metrics(x, x);
  EXPECT_EQ(m.precision, 1.0);
  EXPECT_EQ(m.recall, 1.0);
  EXPECT_EQ(m.coverage, 1.0);
  // Each real ball holds its k nearest neighbours and its own centre: (k + 1) / k.
  EXPECT_DOUBLE_EQ(m.density, 6.0 / 5.0);
}

TEST(Metrics, ManifoldOfOneDistribution) {
  const ManifoldMetrics m = manifold_metrics(random_matrix(2000, 4, 51), random_matrix(2000, 4, 52));
  // Density's expectation is 1 when the distributions agree, coverage's 1 - 2^-k = 0.97
  // (Naeem et al. 2020); both are averages of ~2000 near-independent terms.
  EXPECT_NEAR(m.density, 1.0, 0.1);
  EXPECT_GT(m.coverage, 0.93);
  EXPECT_GT(m.precision, 0.9);
  EXPECT_GT(m.recall, 0.9);
}

TEST(Metrics, PrecisionRecallOnModes) {
  const Matrix real = blobs(4, 400, 0.5, 61);
  // Fakes inside the real manifold by construction: each real point moved by half its
  // 3-NN radius in a random direction. Precision is exactly 1; recall stays high.
  const std::vector<double> radii = knn_radii(real, 3);
  Matrix inside = real;
  Normals normals(62);
  for (int64_t i = 0; i < real.rows; ++i) {
    const double angle = 2 * M_PI * (0.5 + 0.5 * std::erf(normals.next()));
    inside(i, 0) += 0.5 * radii[i] * std::cos(angle), inside(i, 1) += 0.5 * radii[i] * std::sin(angle);
  }
  const ManifoldMetrics in = manifold_metrics(real, inside);
  EXPECT_EQ(in.precision, 1.0);
  EXPECT_GT(in.recall, 0.9);
  // Fakes like the real data but at two of the four modes: half the real data is
  // reached, half the real balls hold a fake, and the fakes that exist are real-like.
  const ManifoldMetrics half = manifold_metrics(real, blobs(2, 800, 0.5, 63));
  EXPECT_NEAR(half.recall, 0.5, 0.03);
  EXPECT_NEAR(half.coverage, 0.5, 0.03);
  EXPECT_GT(half.precision, 0.95);
  // Fakes far from every mode: nothing is inside anything.
  Matrix far = blobs(4, 100, 0.5, 64);
  for (double& v : far.values) v += 40;
  const ManifoldMetrics none = manifold_metrics(real, far);
  EXPECT_EQ(none.precision, 0.0);
  EXPECT_EQ(none.recall, 0.0);
  EXPECT_EQ(none.density, 0.0);
  EXPECT_EQ(none.coverage, 0.0);
}

TEST(Metrics, ClassHistogram) {
  const std::vector<int32_t> classes{0, 3, 7, 9};
  const ClassHistogram uniform = class_histogram({0, 3, 7, 9, 9, 7, 3, 0}, classes);
  EXPECT_EQ(uniform.counts, (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(uniform.kl_uniform, 0.0);
  EXPECT_EQ(uniform.covered, 4);
  EXPECT_EQ(uniform.well_covered, 4);
  const ClassHistogram single = class_histogram(std::vector<int32_t>(10, 7), classes);
  EXPECT_NEAR(single.kl_uniform, std::log(4.0), 1e-15);
  EXPECT_EQ(single.covered, 1);
  // 24 samples over 4 classes: a fair share is 6, "well covered" needs half of it, 3.
  std::vector<int32_t> uneven(10, 0);
  uneven.insert(uneven.end(), 10, 3);
  uneven.insert(uneven.end(), 3, 7);
  uneven.push_back(9);
  const ClassHistogram h = class_histogram(uneven, classes);
  EXPECT_EQ(h.covered, 4);
  EXPECT_EQ(h.well_covered, 3);
  EXPECT_GT(h.kl_uniform, 0.0);
  EXPECT_LT(h.kl_uniform, std::log(4.0));
}

TEST(Metrics, ErrorsNameTheInput) {
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const Matrix x = random_matrix(10, 4, 71);
  EXPECT_EQ(message([&] { frechet_distance(x, random_matrix(10, 5, 72)); }),
            "frechet_distance: real features have 4 dimensions, fake features 5");
  EXPECT_EQ(message([&] { manifold_metrics(x, random_matrix(3, 4, 73)); }),
            "precision/recall (fake): k-NN balls with k = 3 need at least 4 samples, got 3");
  EXPECT_EQ(message([&] { kernel_inception_distance(x, random_matrix(1, 4, 74)); }),
            "KID (fake): needs at least 2 samples with at least 1 feature, got a 1x4 feature matrix");
  EXPECT_EQ(message([&] {
              class_histogram({0, 5}, {0, 1});
            }),
            "class_histogram: prediction 5 is not one of the 2 classes of the real data");
}

TEST(Metrics, RocAucCountsOrderedPairsAndHalvesTies) {
  // Positives score 0.9, 0.4; negatives 0.5, 0.1, 0.4. Of the 6 pairs, (0.9 beats all 3) + (0.4 beats
  // 0.1, ties 0.4, loses to 0.5) = 3 + 1 + 0.5 = 4.5 -> 0.75.
  EXPECT_DOUBLE_EQ(roc_auc({0.9, 0.5, 0.1, 0.4, 0.4}, {true, false, false, true, false}), 0.75);
  EXPECT_DOUBLE_EQ(roc_auc({1, 2, 3}, {false, true, true}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({1, 2, 3}, {true, false, false}), 0.0);
  EXPECT_TRUE(std::isnan(roc_auc({1, 2}, {true, true})));
}
