// Information regularizers for GANs trained on scarce data, as their authors' reference
// code defines them, on a batch of feature maps f (N, ...) flattened per sample, with
// x_i = f_i / |f_i|:
//   uniformity(X, t) = log mean_{i<j} exp(-t |x_i - x_j|^2)            (Wang & Isola, 2020)
//   UR(f) = (uniformity(first N/2 rows) + uniformity(last rows)) / 2   distribution level
//   ER(f) = -(1/N) sum_i [ log std(x_i) / 2 + log |f_i| ]               sample level,
//           std over the feature dimension with the unbiased (d - 1) divisor.
// Both are minimized as part of the generator's loss. They are compositions of engine
// ops, so they run and differentiate on every backend.
#pragma once

#include "engine/tensor.h"

namespace cfgan {

// Rows of `x` (M, d), M >= 2: unit vectors, or zero for a dead feature row (F.normalize's
// answer), which sits at distance 1 from every unit row. One Gram matrix and the squared row
// norms give every pair; the log-mean-exp subtracts its maximum.
Tensor uniformity(const Tensor& x, float t = 2.0f);

// The weights of UR and ER in G's loss that their authors use; every program's default.
inline constexpr float kUrWeight = 0.2f, kErWeight = 0.5f;

Tensor uniformity_regularizer(const Tensor& features);  // UR, needs N >= 4
Tensor entropy_regularizer(const Tensor& features);     // ER, needs d >= 2

// The mean log-norm term of ER alone, -(1/N) sum log |f_i|: unbounded, so logged per step.
float mean_log_norm(const Tensor& features);

}  // namespace cfgan
