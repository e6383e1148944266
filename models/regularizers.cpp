#include "models/regularizers.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {
namespace {

Tensor rows_of(const Tensor& features, const char* what) {
  CFGAN_CHECK(features.ndim() >= 2, what, ": features must be (N, ...), got ", features.shape().str());
  return flatten(features, 1);
}

// (N, 1). A dead ReLU row (all zeros) would give x = 0 / 0 and NaN everywhere; the 1e-24
// under the root (PyTorch's F.normalize eps of 1e-12, squared) makes it a zero vector with
// a large but finite gradient, which the ReLU in front of it then stops. For any row with
// a sum of squares above ~1e-17 it is below float resolution.
Tensor row_norms(const Tensor& f) { return sqrt(sum(square(f), {1}, true) + 1e-24f); }

// (M, M) with 1 where i < j: the pairs torch.pdist visits.
Tensor upper_pairs(int64_t m, Device device) {
  std::vector<float> mask(static_cast<size_t>(m * m), 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = i + 1; j < m; ++j) mask[i * m + j] = 1.0f;
  }
  return Tensor::from_host({m, m}, mask, device);
}

}  // namespace

Tensor uniformity(const Tensor& x, float t) {
  CFGAN_CHECK(x.ndim() == 2 && x.dim(0) >= 2, "uniformity: expected (M >= 2, d) rows, got ", x.shape().str());
  const int64_t m = x.dim(0);
  // |x_i - x_j|^2 = |x_i|^2 + |x_j|^2 - 2 x_i.x_j. The shortcut 2 - 2 x_i.x_j holds for unit
  // rows only: it would put a dead (zero) row at distance 2 from every row, not 1.
  const Tensor squares = sum(square(x), {1}, true);  // (M, 1)
  const Tensor distances = squares + transpose(squares, 0, 1) - 2.0f * matmul(x, transpose(x, 0, 1));
  const Tensor logits = -t * distances;
  const Tensor mask = upper_pairs(m, x.device());
  float shift;
  {
    NoGrad no_grad;  // any constant works in log-mean-exp; the largest pair keeps exp() <= 1
    shift = max(logits * mask + (mask - 1.0f) * 1e30f).item();
  }
  const float pairs = static_cast<float>(m * (m - 1) / 2);
  return log(sum(exp(logits - shift) * mask) / pairs) + shift;
}

Tensor uniformity_regularizer(const Tensor& features) {
  const Tensor f = rows_of(features, "UR");
  const int64_t n = f.dim(0), half = n / 2;
  CFGAN_CHECK(half >= 2, "UR: needs at least 4 samples in the batch, got ", n);
  const Tensor x = f / row_norms(f);
  return 0.5f * (uniformity(narrow(x, 0, 0, half)) + uniformity(narrow(x, 0, half, n - half)));
}

Tensor entropy_regularizer(const Tensor& features) {
  const Tensor f = rows_of(features, "ER");
  const int64_t d = f.dim(1);
  CFGAN_CHECK(d >= 2, "ER: needs at least 2 features per sample for a standard deviation, got ", d);
  const Tensor norms = row_norms(f);
  const Tensor x = f / norms;
  const Tensor centered = x - mean(x, {1}, true);
  const Tensor variance = sum(square(centered), {1}) / static_cast<float>(d - 1);
  // log std / 2 = log variance / 4. A dead row has variance 0; the 1e-24 (the norm's eps,
  // squared) keeps its log finite and is far below the ~1/d variance of any live row.
  return -mean(0.25f * log(variance + 1e-24f) + reshape(log(norms), {f.dim(0)}));
}

float mean_log_norm(const Tensor& features) {
  NoGrad no_grad;
  return -mean(log(row_norms(rows_of(features, "ER")))).item();
}

}  // namespace cfgan
