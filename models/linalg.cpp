#include "models/linalg.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"

namespace cfgan {

Matrix::Matrix(int64_t rows_, int64_t cols_, double fill)
    : rows(rows_), cols(cols_), values(static_cast<size_t>(rows_ * cols_), fill) {}

Matrix Matrix::identity(int64_t n) {
  Matrix m(n, n);
  for (int64_t i = 0; i < n; ++i) m(i, i) = 1.0;
  return m;
}

Matrix multiply(const Matrix& a, const Matrix& b) {
  CFGAN_CHECK(a.cols == b.rows, "multiply: inner dimensions differ: (", a.rows, ",", a.cols, ") x (", b.rows, ",",
              b.cols, ")");
  Matrix c(a.rows, b.cols);
  // i-k-j order: the inner loop runs along rows of b and c.
#pragma omp parallel for schedule(static) if (a.rows * a.cols * b.cols > (1 << 20))
  for (int64_t i = 0; i < a.rows; ++i) {
    for (int64_t k = 0; k < a.cols; ++k) {
      const double aik = a(i, k);
      for (int64_t j = 0; j < b.cols; ++j) c(i, j) += aik * b(k, j);
    }
  }
  return c;
}

Matrix transposed(const Matrix& a) {
  Matrix t(a.cols, a.rows);
  for (int64_t i = 0; i < a.rows; ++i) {
    for (int64_t j = 0; j < a.cols; ++j) t(j, i) = a(i, j);
  }
  return t;
}

double trace(const Matrix& a) {
  CFGAN_CHECK(a.rows == a.cols, "trace: matrix is (", a.rows, ",", a.cols, "), expected square");
  double sum = 0;
  for (int64_t i = 0; i < a.rows; ++i) sum += a(i, i);
  return sum;
}

namespace {

void check_symmetric(const Matrix& a) {
  CFGAN_CHECK(a.rows == a.cols, "symmetric_eigen: matrix is (", a.rows, ",", a.cols, "), expected square");
  double scale = 0;
  for (double v : a.values) {
    CFGAN_CHECK(std::isfinite(v), "symmetric_eigen: the ", a.rows, "x", a.cols, " matrix holds ", v);
    scale = std::max(scale, std::abs(v));
  }
  for (int64_t i = 0; i < a.rows; ++i) {
    for (int64_t j = i + 1; j < a.cols; ++j) {
      CFGAN_CHECK(std::abs(a(i, j) - a(j, i)) <= 1e-9 * scale, "symmetric_eigen: matrix is not symmetric: a(", i, ",",
                  j, ") = ", a(i, j), " but a(", j, ",", i, ") = ", a(j, i));
    }
  }
}

double off_diagonal_norm2(const Matrix& a) {
  double sum = 0;
  for (int64_t i = 0; i < a.rows; ++i) {
    for (int64_t j = 0; j < a.cols; ++j) sum += i == j ? 0.0 : a(i, j) * a(i, j);
  }
  return sum;
}

// A <- J^T A J and V <- V J for the rotation J in the (p, q) plane that zeroes a(p, q)
// (Golub & Van Loan, Algorithm 8.5.1; the smaller root t keeps the rotation below 45
// degrees, which is what makes the cyclic method converge).
void rotate(Matrix& a, Matrix& v, int64_t p, int64_t q) {
  const double apq = a(p, q);
  const double theta = (a(q, q) - a(p, p)) / (2.0 * apq);
  const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
  const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
  const int64_t n = a.rows;
  for (int64_t k = 0; k < n; ++k) {  // columns p and q
    const double akp = a(k, p), akq = a(k, q);
    a(k, p) = c * akp - s * akq;
    a(k, q) = s * akp + c * akq;
  }
  for (int64_t k = 0; k < n; ++k) {  // rows p and q
    const double apk = a(p, k), aqk = a(q, k);
    a(p, k) = c * apk - s * aqk;
    a(q, k) = s * apk + c * aqk;
  }
  a(p, q) = a(q, p) = 0.0;  // zero by construction; rounding would leave ~1e-17
  for (int64_t k = 0; k < n; ++k) {
    const double vkp = v(k, p), vkq = v(k, q);
    v(k, p) = c * vkp - s * vkq;
    v(k, q) = s * vkp + c * vkq;
  }
}

}  // namespace

SymmetricEigen symmetric_eigen(const Matrix& input) {
  check_symmetric(input);
  const int64_t n = input.rows;
  Matrix a = input;
  // Symmetrize exactly, so rotations act on a truly symmetric matrix.
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) a(i, j) = a(j, i) = 0.5 * (a(i, j) + a(j, i));
  }
  Matrix v = Matrix::identity(n);
  double total = 0;
  for (double x : a.values) total += x * x;
  constexpr int kMaxSweeps = 60;  // convergence is quadratic; 6-12 sweeps is typical
  int sweep = 0;
  for (; sweep < kMaxSweeps && off_diagonal_norm2(a) > 1e-30 * total; ++sweep) {
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        // An element below the rounding of both diagonals changes nothing representable.
        const double apq = a(p, q);
        if (apq == 0.0 || std::abs(apq) < 1e-18 * (std::abs(a(p, p)) + std::abs(a(q, q)))) {
          a(p, q) = a(q, p) = 0.0;
          continue;
        }
        rotate(a, v, p, q);
      }
    }
  }
  CFGAN_CHECK(sweep < kMaxSweeps, "symmetric_eigen: Jacobi did not converge in ", kMaxSweeps, " sweeps on a ", n, "x",
              n, " matrix");

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return a(i, i) < a(j, j); });
  SymmetricEigen out{std::vector<double>(static_cast<size_t>(n)), Matrix(n, n)};
  for (int64_t c = 0; c < n; ++c) {
    out.values[c] = a(order[c], order[c]);
    for (int64_t r = 0; r < n; ++r) out.vectors(r, c) = v(r, order[c]);
  }
  return out;
}

Matrix sqrt_psd(const Matrix& a) {
  const SymmetricEigen eig = symmetric_eigen(a);
  const int64_t n = a.rows;
  Matrix scaled = eig.vectors;  // V diag(sqrt(l))
  for (int64_t c = 0; c < n; ++c) {
    const double root = std::sqrt(std::max(eig.values[c], 0.0));
    for (int64_t r = 0; r < n; ++r) scaled(r, c) *= root;
  }
  return multiply(scaled, transposed(eig.vectors));
}

}  // namespace cfgan
