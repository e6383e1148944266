#include "models/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {
namespace {

void check_features(const char* what, const Matrix& x, int64_t min_rows) {
  CFGAN_CHECK(x.rows >= min_rows && x.cols >= 1, what, ": needs at least ", min_rows, " samples with at least 1 ",
              "feature, got a ", x.rows, "x", x.cols, " feature matrix");
  for (double v : x.values) CFGAN_CHECK(std::isfinite(v), what, ": the features hold a non-finite value (", v, ")");
}

void check_same_width(const char* what, const Matrix& real, const Matrix& fake) {
  CFGAN_CHECK(real.cols == fake.cols, what, ": real features have ", real.cols, " dimensions, fake features ",
              fake.cols);
}

// Rows of x minus `center`, as float, optionally transposed to (d, n) for the right-hand
// side of a GEMM. Distances do not change under translation, and centring keeps
// |a|^2 + |b|^2 - 2 a.b from cancelling away float precision.
Tensor float_rows(const Matrix& x, const std::vector<double>& center, bool transpose) {
  std::vector<float> values(x.values.size());
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t j = 0; j < x.cols; ++j) {
      const float v = static_cast<float>(x(i, j) - center[j]);
      values[transpose ? j * x.rows + i : i * x.cols + j] = v;
    }
  }
  return transpose ? Tensor::from_host({x.cols, x.rows}, values) : Tensor::from_host({x.rows, x.cols}, values);
}

std::vector<double> squared_norms(const Matrix& x, const std::vector<double>& center) {
  std::vector<double> out(static_cast<size_t>(x.rows));
  for (int64_t i = 0; i < x.rows; ++i) {
    double s = 0;
    for (int64_t j = 0; j < x.cols; ++j) s += (x(i, j) - center[j]) * (x(i, j) - center[j]);
    out[i] = s;
  }
  return out;
}

// The reference every float distance is checked against near a decision boundary. The
// sum runs in one fixed order and (a-b)^2 == (b-a)^2 exactly, so d(x, y) == d(y, x) to
// the bit: a fake sample equal to a real one lands exactly on that real ball's boundary.
double exact_squared_distance(const double* x, const double* y, int64_t d) {
  double s = 0;
  for (int64_t k = 0; k < d; ++k) s += (x[k] - y[k]) * (x[k] - y[k]);
  return s;
}

// Squared distances from every row of `a` to every row of `b` through the float GEMM,
// one block of rows of `a` at a time (a block of distances stays ~16 MB). Calls
// row_fn(i, dist2, norm2_a, norms2_b) for each row i of `a` (norms of the centred rows);
// rows run in parallel, so row_fn may only write state of row i.
template <typename RowFn>
void for_each_distance_row(const Matrix& a, const Matrix& b, const std::vector<double>& center, RowFn&& row_fn) {
  NoGrad no_grad;
  const Tensor a_rows = float_rows(a, center, false), b_cols = float_rows(b, center, true);
  const std::vector<double> norms_a = squared_norms(a, center), norms_b = squared_norms(b, center);
  std::vector<float> norms_b32(norms_b.begin(), norms_b.end());
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 22) / b.rows);
  for (int64_t begin = 0; begin < a.rows; begin += block) {
    const int64_t count = std::min(block, a.rows - begin);
    const Tensor dots = matmul(a_rows.outer_slice(begin, count), b_cols);
    float* values = dots.data();
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t r = 0; r < count; ++r) {
      float* row = values + r * b.rows;
      const float na = static_cast<float>(norms_a[begin + r]);
      for (int64_t j = 0; j < b.rows; ++j) row[j] = std::max(0.0f, na + norms_b32[j] - 2.0f * row[j]);
      row_fn(begin + r, static_cast<const float*>(row), norms_a[begin + r], norms_b);
    }
  }
}

std::vector<double> column_means(const Matrix& x) {
  std::vector<double> mean(static_cast<size_t>(x.cols), 0.0);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t j = 0; j < x.cols; ++j) mean[j] += x(i, j);
  }
  for (double& m : mean) m /= static_cast<double>(x.rows);
  return mean;
}

// Bounds the float distances' error per unit of squared norm: |float - exact| <=
// float_slack(d) * (|a_i|^2 + |b_j|^2), from at most d + 8 roundings of relative size
// 2^-24 in the dot product (|2 a.b| <= |a|^2 + |b|^2), the norms and the conversion to float.
double float_slack(int64_t d) { return static_cast<double>(d + 8) * std::ldexp(1.0, -24); }

// Is b_j within squared radius r2 of a_i? Decided on the float distance when it is
// clear of the boundary by more than its error bound, else on the exact distance.
bool within(float dist2, double r2, double bound, const double* ai, const double* bj, int64_t d) {
  if (dist2 > r2 + bound) return false;
  if (dist2 < r2 - bound) return true;
  return exact_squared_distance(ai, bj, d) <= r2;
}

// For each row, the squared distances to its `k` nearest other rows, ascending (n x k).
// Candidates are picked on float distances (two spare, in case rounding reorders
// near-ties) and then measured exactly.
std::vector<double> nearest_squared(const char* what, const Matrix& x, int64_t k) {
  CFGAN_CHECK(k >= 1 && x.rows > k, what, ": k-NN balls with k = ", k, " need at least ", k + 1, " samples, got ",
              x.rows);
  const int64_t keep = std::min(k + 2, x.rows - 1);
  std::vector<double> out(static_cast<size_t>(x.rows * k));
  const std::vector<double> center = column_means(x);
  for_each_distance_row(x, x, center, [&](int64_t i, const float* row, double, const std::vector<double>&) {
    std::vector<std::pair<float, int64_t>> best;  // ascending, at most `keep`
    for (int64_t j = 0; j < x.rows; ++j) {
      if (j == i || (static_cast<int64_t>(best.size()) == keep && row[j] >= best.back().first)) continue;
      if (static_cast<int64_t>(best.size()) == keep) best.pop_back();
      best.insert(std::upper_bound(best.begin(), best.end(), std::make_pair(row[j], j)), {row[j], j});
    }
    std::vector<double> exact;
    for (const auto& [dist, j] : best) exact.push_back(exact_squared_distance(x.row(i), x.row(j), x.cols));
    std::sort(exact.begin(), exact.end());
    std::copy(exact.begin(), exact.begin() + k, out.begin() + i * k);
  });
  return out;
}

std::vector<double> column(const std::vector<double>& nearest, int64_t k, int64_t which) {
  std::vector<double> out(nearest.size() / static_cast<size_t>(k));
  for (size_t i = 0; i < out.size(); ++i) out[i] = nearest[i * k + which];
  return out;
}

}  // namespace

GaussianFit fit_gaussian(const Matrix& x) {
  check_features("fit_gaussian", x, 2);
  const int64_t n = x.rows, d = x.cols;
  GaussianFit fit{{}, Matrix(d, d)};
  fit.mean = column_means(x);
  Matrix centred(d, n);  // transposed, so each covariance entry is a contiguous dot product
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) centred(j, i) = x(i, j) - fit.mean[j];
  }
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t a = 0; a < d; ++a) {
    for (int64_t b = a; b < d; ++b) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += centred(a, i) * centred(b, i);
      fit.covariance(a, b) = fit.covariance(b, a) = s / static_cast<double>(n - 1);
    }
  }
  return fit;
}

double frechet_distance(const GaussianFit& a, const GaussianFit& b) {
  CFGAN_CHECK(a.mean.size() == b.mean.size(), "frechet_distance: Gaussians of ", a.mean.size(), " and ", b.mean.size(),
              " dimensions");
  double mean_term = 0;
  for (size_t i = 0; i < a.mean.size(); ++i) mean_term += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i]);
  // tr((S_a^1/2 S_b S_a^1/2)^1/2): the middle matrix is symmetric PSD, so its square
  // root's trace is the sum of the roots of its eigenvalues.
  const Matrix root_a = sqrt_psd(a.covariance);
  const SymmetricEigen eig = symmetric_eigen(multiply(multiply(root_a, b.covariance), root_a));
  double cross = 0;
  for (double l : eig.values) cross += std::sqrt(std::max(l, 0.0));
  return mean_term + trace(a.covariance) + trace(b.covariance) - 2.0 * cross;
}

double frechet_distance(const Matrix& real, const Matrix& fake) {
  check_same_width("frechet_distance", real, fake);
  return frechet_distance(fit_gaussian(real), fit_gaussian(fake));
}

KidResult kernel_inception_distance(const Matrix& real, const Matrix& fake, int64_t subsets, int64_t subset_size,
                                    uint64_t seed) {
  check_features("KID (real)", real, 2);
  check_features("KID (fake)", fake, 2);
  check_same_width("KID", real, fake);
  CFGAN_CHECK(subsets >= 1 && subset_size >= 2, "KID: needs >= 1 subsets of >= 2 samples, got ", subsets, " of ",
              subset_size);
  const int64_t m = std::min({subset_size, real.rows, fake.rows}), d = real.cols;
  std::mt19937_64 rng(seed);
  std::vector<int64_t> real_order(static_cast<size_t>(real.rows)), fake_order(static_cast<size_t>(fake.rows));
  std::iota(real_order.begin(), real_order.end(), 0);
  std::iota(fake_order.begin(), fake_order.end(), 0);
  // The first m entries after a partial Fisher-Yates pass: m distinct rows, uniformly.
  auto draw = [&](std::vector<int64_t>& order) {
    for (int64_t i = 0; i < m; ++i) std::swap(order[i], order[i + rng() % (order.size() - i)]);
  };
  NoGrad no_grad;
  std::vector<double> estimates;
  std::vector<float> rows(static_cast<size_t>(2 * m * d)), cols(rows.size());
  for (int64_t s = 0; s < subsets; ++s) {
    draw(real_order);
    draw(fake_order);
    for (int64_t i = 0; i < 2 * m; ++i) {  // rows 0..m-1 real, m..2m-1 fake
      const double* src = i < m ? real.row(real_order[i]) : fake.row(fake_order[i - m]);
      for (int64_t j = 0; j < d; ++j) rows[i * d + j] = cols[j * 2 * m + i] = static_cast<float>(src[j]);
    }
    const Tensor gram = matmul(Tensor::from_host({2 * m, d}, rows), Tensor::from_host({d, 2 * m}, cols));
    const float* g = gram.data();
    double same = 0, cross = 0;  // k(real, real) + k(fake, fake) off the diagonal; k(real, fake)
    const double inv_d = 1.0 / static_cast<double>(d);
    auto kernel_sum = [&](const float* row, int64_t begin, int64_t end) {
      double sum = 0;
      for (int64_t j = begin; j < end; ++j) {
        const double base = static_cast<double>(row[j]) * inv_d + 1.0;
        sum += base * base * base;
      }
      return sum;
    };
    // The Gram matrix is symmetric: the upper triangle, with each same-set pair twice.
#pragma omp parallel for reduction(+ : same, cross) schedule(dynamic, 16)
    for (int64_t i = 0; i < 2 * m; ++i) {
      const float* row = g + i * 2 * m;
      same += 2.0 * kernel_sum(row, i + 1, i < m ? m : 2 * m);
      if (i < m) cross += kernel_sum(row, m, 2 * m);
    }
    const double md = static_cast<double>(m);
    estimates.push_back(same / (md * (md - 1)) - 2.0 * cross / (md * md));
  }
  KidResult out{0, 0, subsets, m};
  for (double e : estimates) out.mean += e / static_cast<double>(subsets);
  for (double e : estimates) out.std += (e - out.mean) * (e - out.mean) / static_cast<double>(subsets);
  out.std = std::sqrt(out.std);
  return out;
}

std::vector<double> knn_radii(const Matrix& x, int64_t k) {
  check_features("knn_radii", x, 1);
  std::vector<double> r = column(nearest_squared("knn_radii", x, k), k, k - 1);
  for (double& v : r) v = std::sqrt(v);
  return r;
}

ManifoldMetrics manifold_metrics(const Matrix& real, const Matrix& fake, int64_t k_pr, int64_t k_dc) {
  check_features("precision/recall/density/coverage (real)", real, 1);
  check_features("precision/recall/density/coverage (fake)", fake, 1);
  check_same_width("precision/recall/density/coverage", real, fake);
  CFGAN_CHECK(k_pr >= 1 && k_dc >= 1, "manifold metrics: k must be >= 1, got ", k_pr, " and ", k_dc);
  const int64_t k_max = std::max(k_pr, k_dc), d = real.cols;
  const std::vector<double> real_nearest = nearest_squared("precision/recall/density/coverage (real)", real, k_max);
  const std::vector<double> real_pr = column(real_nearest, k_max, k_pr - 1);
  const std::vector<double> real_dc = column(real_nearest, k_max, k_dc - 1);
  const std::vector<double> fake_pr = column(nearest_squared("precision/recall (fake)", fake, k_pr), k_pr, k_pr - 1);
  const std::vector<double> center = column_means(real);
  const double slack = float_slack(d);

  std::vector<char> fake_in_real(static_cast<size_t>(fake.rows), 0);
  std::vector<int64_t> balls_holding(static_cast<size_t>(fake.rows), 0);
  for_each_distance_row(fake, real, center, [&](int64_t j, const float* row, double nj, const std::vector<double>& nr) {
    for (int64_t i = 0; i < real.rows; ++i) {
      const double bound = slack * (nj + nr[i]);
      if (within(row[i], real_pr[i], bound, fake.row(j), real.row(i), d)) fake_in_real[j] = 1;
      if (within(row[i], real_dc[i], bound, fake.row(j), real.row(i), d)) ++balls_holding[j];
    }
  });
  std::vector<char> real_in_fake(static_cast<size_t>(real.rows), 0), real_covered(real_in_fake);
  for_each_distance_row(real, fake, center, [&](int64_t i, const float* row, double ni, const std::vector<double>& nf) {
    for (int64_t j = 0; j < fake.rows && !(real_in_fake[i] && real_covered[i]); ++j) {
      const double bound = slack * (ni + nf[j]);
      if (!real_in_fake[i] && within(row[j], fake_pr[j], bound, real.row(i), fake.row(j), d)) real_in_fake[i] = 1;
      if (!real_covered[i] && within(row[j], real_dc[i], bound, real.row(i), fake.row(j), d)) real_covered[i] = 1;
    }
  });

  auto fraction = [](const std::vector<char>& flags) {
    return static_cast<double>(std::count(flags.begin(), flags.end(), 1)) / static_cast<double>(flags.size());
  };
  ManifoldMetrics out;
  out.precision = fraction(fake_in_real);
  out.recall = fraction(real_in_fake);
  out.density = static_cast<double>(std::accumulate(balls_holding.begin(), balls_holding.end(), int64_t{0})) /
                (static_cast<double>(k_dc) * static_cast<double>(fake.rows));
  out.coverage = fraction(real_covered);
  return out;
}

ClassHistogram class_histogram(const std::vector<int32_t>& predicted, const std::vector<int32_t>& classes) {
  CFGAN_CHECK(!predicted.empty() && !classes.empty(), "class_histogram: needs predictions and classes, got ",
              predicted.size(), " predictions over ", classes.size(), " classes");
  ClassHistogram h{classes, std::vector<int64_t>(classes.size(), 0), 0, 0, 0.0};
  for (int32_t p : predicted) {
    auto it = std::find(classes.begin(), classes.end(), p);
    CFGAN_CHECK(it != classes.end(), "class_histogram: prediction ", p, " is not one of the ", classes.size(),
                " classes of the real data");
    ++h.counts[it - classes.begin()];
  }
  const double n = static_cast<double>(predicted.size()), c = static_cast<double>(classes.size());
  for (int64_t count : h.counts) {
    h.covered += count > 0;
    h.well_covered += static_cast<double>(count) >= n / (2.0 * c);
    if (count > 0) h.kl_uniform += (count / n) * std::log((count / n) * c);
  }
  return h;
}

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  CFGAN_CHECK(scores.size() == positive.size(), "roc_auc: ", scores.size(), " scores for ", positive.size(), " labels");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Ranks 1..n, tied scores sharing their mean rank.
  double positive_rank_sum = 0;
  int64_t positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t t = i; t < j; ++t)
      if (positive[order[t]]) positive_rank_sum += rank, ++positives;
    i = j;
  }
  const auto p = static_cast<double>(positives), n = static_cast<double>(scores.size()) - p;
  if (p == 0 || n == 0) return std::numeric_limits<double>::quiet_NaN();
  return (positive_rank_sum - p * (p + 1) / 2) / (p * n);
}

}  // namespace cfgan

