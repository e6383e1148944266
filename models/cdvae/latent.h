// The latent-variable pieces of a VAE with binary attribute codes, as compositions of
// engine ops (so they differentiate, and run on every backend, through the ops' own
// backward kernels):
//   z = mu + exp(logvar / 2) * eps                          reparameterised Gaussian sample
//   KL(N(mu, exp(logvar)) || N(0, I)) = -1/2 sum (1 + logvar - mu^2 - exp(logvar))
//   KL(Bern(q) || Bern(p)), q = sigmoid(l)                   the attribute posterior to its prior
//   a = sigmoid((l + log u - log(1 - u)) / tau)              binary Concrete (Gumbel-sigmoid)
//       hard: 1[a > 1/2] forward, a's gradient backward      straight-through
#pragma once

#include "engine/random.h"
#include "engine/tensor.h"

namespace cfgan {

// mu, logvar (N, D) -> z (N, D), with eps ~ N(0, 1) from `gen`, or given (N, D).
Tensor gaussian_sample(const Tensor& mu, const Tensor& logvar, Generator& gen);
Tensor gaussian_sample(const Tensor& mu, const Tensor& logvar, const Tensor& eps);

// The KL of each row's diagonal Gaussian to N(0, I), summed over D, averaged over N -> [].
Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar);

// logits (N, K) of q = sigmoid(l); prior (K) probabilities p in (0, 1). KL(Bern(q) || Bern(p))
// summed over K, averaged over N -> []. With log q = -softplus(-l), log(1 - q) = -softplus(l),
// it is finite for any logit.
Tensor bernoulli_kl(const Tensor& logits, const Tensor& prior);

// A relaxed Bernoulli(sigmoid(l)) sample at temperature tau > 0, in (0, 1); `hard` makes it
// exactly 0 or 1 in the forward pass while the gradient is the relaxed one's.
Tensor binary_concrete(const Tensor& logits, float tau, bool hard, Generator& gen);
// The same with the uniform draws u (logits' shape, in (0, 1)) given.
Tensor binary_concrete(const Tensor& logits, float tau, bool hard, const Tensor& u);
// The uniform draws binary_concrete takes from `gen`: kept off 0 and 1 so log u and
// log(1 - u) are finite.
Tensor concrete_uniforms(const Shape& shape, Generator& gen, Device device);

}  // namespace cfgan
