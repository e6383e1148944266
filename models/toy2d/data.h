// The 2-D toy data for the information regularizers' experiments: mixtures of Gaussians
// whose modes can be counted, and small training sets drawn from them (data scarcity).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace cfgan {

// Equal-weight isotropic Gaussians: "ring" (8 on the unit circle, std 0.01) or "grid"
// (25 at {-4,-2,0,2,4}^2, std 0.05).
struct ToyMixture {
  std::string name{};
  std::vector<float> centers{};  // (modes, 2) row-major
  float std = 0.0f;
  int64_t modes() const { return static_cast<int64_t>(centers.size() / 2); }
};
ToyMixture make_toy_mixture(const std::string& name);  // errors name --data

// `n` points, each from a mode drawn uniformly at random -> (n, 2).
Tensor sample_mixture(const ToyMixture& mixture, int64_t n, Generator& gen);

// Real batches for training: from a fixed set of `per_mode` points per mode, drawn with
// replacement, or (per_mode == 0) fresh samples of the mixture every batch.
class ToyData {
 public:
  ToyData(ToyMixture mixture, int64_t per_mode, uint64_t seed);
  Tensor next(int64_t batch);
  const ToyMixture& mixture() const { return mixture_; }
  int64_t per_mode() const { return per_mode_; }
  const Tensor& training_set() const { return set_; }  // (modes * per_mode, 2); undefined when unlimited

 private:
  ToyMixture mixture_;
  int64_t per_mode_;
  Tensor set_;
  Generator gen_;
};

}  // namespace cfgan
