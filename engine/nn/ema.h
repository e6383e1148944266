// An exponential moving average of a module's weights (a "shadow" copy with the same
// architecture): shadow = d * shadow + (1 - d) * live after every update, with
// d = min(decay, (1 + step) / (10 + step)) so the average forgets the random
// initialization within the first steps instead of ~1/(1 - decay) of them; buffers
// (batch-norm running statistics, spectral-norm vectors) are copied.
#pragma once

#include "engine/nn/module.h"

namespace cfgan {

class Ema {
 public:
  // `shadow` must have the same state_dict layout as `live`; it starts as a copy.
  Ema(const Module& live, Module& shadow, float decay);
  void update(int64_t step);  // step: updates done before this one
  float decay() const { return decay_; }

 private:
  NamedTensors live_params_, shadow_params_, live_buffers_, shadow_buffers_;
  float decay_;
};

}  // namespace cfgan
