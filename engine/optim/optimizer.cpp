#include "engine/optim/optimizer.h"

#include <cmath>

#include "engine/error.h"

namespace cfgan {

Optimizer::Optimizer(NamedTensors params) : params_(std::move(params)) {
  for (auto& [name, p] : params_) {
    CFGAN_CHECK(p.requires_grad(), "optimizer: parameter '", name, "' does not require grad");
  }
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

std::vector<Tensor> Optimizer::zeros_like_params() const {
  std::vector<Tensor> tensors;
  for (auto& [name, p] : params_) tensors.push_back(Tensor::zeros(p.shape(), p.device()));
  return tensors;
}

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  for (const auto& [kind, tensors] : state_) {
    for (size_t i = 0; i < params_.size(); ++i) out.emplace_back(kind + "." + params_[i].first, (*tensors)[i]);
  }
  out.emplace_back("step", Tensor::scalar(static_cast<float>(steps_)));
  return out;
}

void Optimizer::load_state_dict(const TensorMap& state, const std::string& prefix) {
  for (auto& [name, t] : state_dict()) {
    const std::string key = prefix + name;
    auto it = state.find(key);
    CFGAN_CHECK(it != state.end(), "optimizer state: tensor '", key, "' is missing");
    CFGAN_CHECK(it->second.shape() == t.shape(), "optimizer state: tensor '", key, "' has shape ",
                it->second.shape().str(), ", expected ", t.shape().str());
    if (name == "step") {
      steps_ = static_cast<int64_t>(it->second.item());
    } else {
      t.copy_(it->second);
    }
  }
}

Adam::Adam(NamedTensors params, AdamOptions opt) : Optimizer(std::move(params)), opt_(opt) {
  lr_ = opt.lr;
  exp_avg_ = zeros_like_params();
  exp_avg_sq_ = zeros_like_params();
  state_ = {{"exp_avg", &exp_avg_}, {"exp_avg_sq", &exp_avg_sq_}};
}

void Adam::step() {
  ++steps_;
  const float bc1 = 1.0f - std::pow(opt_.beta1, static_cast<float>(steps_));
  const float bc2 = 1.0f - std::pow(opt_.beta2, static_cast<float>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    kernels_for(p.device())
        .adam_update(p.data(), g.data(), exp_avg_[i].data(), exp_avg_sq_[i].data(), p.numel(), lr_, opt_.beta1,
                     opt_.beta2, opt_.eps, opt_.weight_decay, bc1, bc2);
  }
}

SGD::SGD(NamedTensors params, SgdOptions opt) : Optimizer(std::move(params)), opt_(opt) {
  lr_ = opt.lr;
  momentum_buffer_ = zeros_like_params();
  state_ = {{"momentum_buffer", &momentum_buffer_}};
}

void SGD::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    kernels_for(p.device())
        .sgd_update(p.data(), g.data(), momentum_buffer_[i].data(), p.numel(), lr_, opt_.momentum,
                    opt_.weight_decay, steps_ == 0);
  }
  ++steps_;
}

}  // namespace cfgan
