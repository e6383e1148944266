#include "models/cdvae/latent.h"

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {

Tensor gaussian_sample(const Tensor& mu, const Tensor& logvar, Generator& gen) {
  return gaussian_sample(mu, logvar, Tensor::randn(mu.shape(), gen, mu.device()));
}

Tensor gaussian_sample(const Tensor& mu, const Tensor& logvar, const Tensor& eps) {
  CFGAN_CHECK(mu.shape() == logvar.shape() && mu.shape() == eps.shape(), "gaussian_sample: mu ", mu.shape().str(),
              ", logvar ", logvar.shape().str(), " and eps ", eps.shape().str(), " differ");
  return mu + exp(logvar * 0.5f) * eps;
}

Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar) {
  CFGAN_CHECK(mu.ndim() == 2 && mu.shape() == logvar.shape(), "gaussian_kl: expected mu and logvar (N, D), got ",
              mu.shape().str(), " and ", logvar.shape().str());
  const Tensor per_row = sum(1.0f + logvar - square(mu) - exp(logvar), {1});
  return mean(per_row) * -0.5f;
}

Tensor bernoulli_kl(const Tensor& logits, const Tensor& prior) {
  CFGAN_CHECK(logits.ndim() == 2 && prior.ndim() == 1 && prior.dim(0) == logits.dim(1),
              "bernoulli_kl: expected logits (N, K) and prior (K), got ", logits.shape().str(), " and ",
              prior.shape().str());
  const Tensor q = sigmoid(logits);
  const Tensor log_q = -softplus(-logits), log_not_q = -softplus(logits);
  const Tensor log_p = reshape(log(prior), {1, prior.dim(0)}),
               log_not_p = reshape(log(1.0f - prior), {1, prior.dim(0)});
  const Tensor per_code = q * (log_q - log_p) + (1.0f - q) * (log_not_q - log_not_p);
  return mean(sum(per_code, {1}));
}

Tensor concrete_uniforms(const Shape& shape, Generator& gen, Device device) {
  return Tensor::rand(shape, gen, device, 1e-6f, 1.0f - 1e-6f);
}

Tensor binary_concrete(const Tensor& logits, float tau, bool hard, Generator& gen) {
  return binary_concrete(logits, tau, hard, concrete_uniforms(logits.shape(), gen, logits.device()));
}

Tensor binary_concrete(const Tensor& logits, float tau, bool hard, const Tensor& u) {
  CFGAN_CHECK(tau > 0, "binary_concrete: temperature must be > 0, got ", tau);
  CFGAN_CHECK(u.shape() == logits.shape(), "binary_concrete: logits ", logits.shape().str(), " and uniforms ",
              u.shape().str(), " differ");
  const Tensor noise = log(u) - log(1.0f - u);  // logistic noise
  const Tensor soft = sigmoid((logits + noise) / tau);
  if (!hard) return soft;
  Tensor rounded;
  {
    // 1[soft > 1/2] on the device: any positive float times 1e30 clamps to 1 (the smallest
    // gap to 1/2 a float in (0, 1) can have is above 1e-30), anything else to 0.
    NoGrad no_grad;
    rounded = clamp((soft - 0.5f) * 1e30f, 0.0f, 1.0f);
  }
  return soft + (rounded - soft.detach());
}

}  // namespace cfgan
