// Small dense linear algebra in double precision for the metrics: feature matrices,
// covariances, and the symmetric eigen-decomposition the Fréchet distance's matrix
// square roots come from. Sizes here are feature dimensions (d <= 256), so plain loops
// and cyclic Jacobi are fast enough and easy to trust.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cfgan {

// Row-major rows x cols. For feature matrices a row is one sample.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> values;

  Matrix() = default;
  Matrix(int64_t rows, int64_t cols, double fill = 0.0);
  static Matrix identity(int64_t n);

  double& operator()(int64_t i, int64_t j) { return values[static_cast<size_t>(i * cols + j)]; }
  double operator()(int64_t i, int64_t j) const { return values[static_cast<size_t>(i * cols + j)]; }
  const double* row(int64_t i) const { return values.data() + i * cols; }
};

Matrix multiply(const Matrix& a, const Matrix& b);  // (m,k) x (k,n); errors name both shapes
Matrix transposed(const Matrix& a);
double trace(const Matrix& a);  // square only

// A = V diag(values) V^T with orthonormal eigenvectors in the columns of V, values ascending.
struct SymmetricEigen {
  std::vector<double> values;
  Matrix vectors;
};

// Cyclic Jacobi: rotations zero the off-diagonal elements one by one until their
// squared norm is below 1e-30 of the matrix's; accurate to a few ulps of the largest
// eigenvalue, also for repeated eigenvalues. Errors when `a` is not square or not
// symmetric (|a_ij - a_ji| > 1e-9 max|a|).
SymmetricEigen symmetric_eigen(const Matrix& a);

// The positive semi-definite square root V diag(sqrt(max(l, 0))) V^T. Eigenvalues a
// covariance should not have but rounding gives (tiny negatives) are clamped to 0.
Matrix sqrt_psd(const Matrix& a);

}  // namespace cfgan
