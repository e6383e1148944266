// Spectral normalization (Miyato et al., 2018): the wrapped layer uses W / sigma(W),
// sigma estimated by one power iteration per training forward. Parameters and buffers
// keep PyTorch's names: weight_orig, weight_u, weight_v, and the layer's others (bias).
#pragma once

#include <memory>

#include "engine/nn/module.h"

namespace cfgan {

class SpectralNorm : public Module {
 public:
  // Takes over `layer`'s parameter "weight" (shape (out, ...), normalized as (out, rest)).
  explicit SpectralNorm(std::shared_ptr<Module> layer, float eps = 1e-12f);
  Tensor forward(const Tensor& x) override;
  // W / sigma with gradient to weight_orig; in training, advances u and v first.
  Tensor normalized_weight();

  Tensor weight_orig;
  Tensor weight_u;  // (out)
  Tensor weight_v;  // (rest)

 private:
  std::shared_ptr<Module> layer_;
  Tensor* layer_weight_;
  float eps_;
};

}  // namespace cfgan
