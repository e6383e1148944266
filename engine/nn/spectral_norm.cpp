#include "engine/nn/spectral_norm.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/nn/init.h"
#include "engine/ops.h"

namespace cfgan {
namespace {

// x / max(||x||, eps)
Tensor normalize(const Tensor& x, float eps) {
  const float norm = std::sqrt(sum(square(x)).item());
  return x / std::max(norm, eps);
}

}  // namespace

SpectralNorm::SpectralNorm(std::shared_ptr<Module> layer, float eps) : layer_(std::move(layer)), eps_(eps) {
  layer_weight_ = layer_->take_parameter("weight");
  weight_orig = *layer_weight_;
  const int64_t rows = weight_orig.dim(0), cols = weight_orig.numel() / rows;
  weight_u = normalize(Tensor::randn({rows}, default_generator(), weight_orig.device()), eps_);
  weight_v = normalize(Tensor::randn({cols}, default_generator(), weight_orig.device()), eps_);
  // The wrapper speaks for the layer: its remaining parameters, buffers and children
  // move here, so the names stay those of PyTorch's spectral_norm.
  register_parameter("weight_orig", &weight_orig);
  for (auto& entry : layer_->parameters_) parameters_.push_back(entry);
  register_buffer("weight_u", &weight_u);
  register_buffer("weight_v", &weight_v);
  for (auto& entry : layer_->buffers_) buffers_.push_back(entry);
  for (auto& entry : layer_->children_) children_.push_back(entry);
  layer_->parameters_.clear();
  layer_->buffers_.clear();
  layer_->children_.clear();
}

Tensor SpectralNorm::normalized_weight() {
  const int64_t rows = weight_orig.dim(0), cols = weight_orig.numel() / rows;
  const Tensor w = reshape(weight_orig, {rows, cols});
  Tensor u = weight_u, v = weight_v;
  if (is_training()) {
    NoGrad no_grad;
    const Tensor wd = w.detach();
    v = normalize(reshape(matmul(reshape(u, {1, rows}), wd), {cols}), eps_);
    u = normalize(reshape(matmul(wd, reshape(v, {cols, 1})), {rows}), eps_);
    // Fresh tensors go into the graph and copies into the buffers, so a later forward
    // that advances the buffers cannot change what an earlier graph saved.
    weight_u.copy_(u);
    weight_v.copy_(v);
  }
  const Tensor sigma = sum(u * reshape(matmul(w, reshape(v, {cols, 1})), {rows}));
  return weight_orig / sigma;
}

Tensor SpectralNorm::forward(const Tensor& x) {
  *layer_weight_ = normalized_weight();
  return layer_->forward(x);
}

}  // namespace cfgan
