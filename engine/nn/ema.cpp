#include "engine/nn/ema.h"

#include <algorithm>

#include "engine/error.h"

namespace cfgan {

Ema::Ema(const Module& live, Module& shadow, float decay)
    : live_params_(live.named_parameters()),
      shadow_params_(shadow.named_parameters()),
      live_buffers_(live.named_buffers()),
      shadow_buffers_(shadow.named_buffers()),
      decay_(decay) {
  CFGAN_CHECK(decay >= 0.0f && decay < 1.0f, "EMA decay must be in [0, 1), got ", decay);
  CFGAN_CHECK(live_params_.size() == shadow_params_.size() && live_buffers_.size() == shadow_buffers_.size(),
              "EMA: the shadow module does not match the live one");
  for (size_t i = 0; i < live_params_.size(); ++i) {
    CFGAN_CHECK(live_params_[i].second.shape() == shadow_params_[i].second.shape(), "EMA: parameter '",
                live_params_[i].first, "' has shape ", live_params_[i].second.shape().str(), " in the live module, ",
                shadow_params_[i].second.shape().str(), " in the shadow");
    shadow_params_[i].second.copy_(live_params_[i].second);
  }
  for (size_t i = 0; i < live_buffers_.size(); ++i) shadow_buffers_[i].second.copy_(live_buffers_[i].second);
}

void Ema::update(int64_t step) {
  const float d = std::min(decay_, static_cast<float>(1 + step) / static_cast<float>(10 + step));
  for (size_t i = 0; i < live_params_.size(); ++i) {
    const Tensor& s = shadow_params_[i].second;
    const Kernels& k = kernels_for(s.device());
    k.unary_forward(UnaryOp::affine, d, 0.0f, s.data(), s.data(), s.numel());
    k.axpy(s.data(), 1.0f - d, live_params_[i].second.data(), s.numel());
  }
  for (size_t i = 0; i < live_buffers_.size(); ++i) shadow_buffers_[i].second.copy_(live_buffers_[i].second);
}

}  // namespace cfgan
