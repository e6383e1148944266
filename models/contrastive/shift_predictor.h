// The shift predictor of contrastive counterfactuals (Alipour et al. 2022): an MLP that reads a
// generator's latent code w and a target vector t in {-1, 0, +1}^K (attribute k forced on /
// off / left alone) and returns the latent shift dw whose decode G(w + dw) shows the targets:
//
//   [w, t] (d + K) -> Linear 1024 -> ReLU -> Dropout 0.2 -> Linear 1024 -> ReLU -> Dropout 0.1
//                  -> Linear d  = dw
//
// Our DCGANs have no mapping network, so w is the noise z itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/random.h"

namespace cfgan {

struct ShiftSpec {
  int64_t latent_dim = 100;          // d, the generator's z_dim
  std::vector<std::string> targets;  // the K attributes t addresses, in t's order
  int64_t hidden = 1024;
  float dropout1 = 0.2f, dropout2 = 0.1f;

  int64_t num_targets() const { return static_cast<int64_t>(targets.size()); }
  std::string to_json() const;
  static ShiftSpec from_json(const std::string& text);  // errors name the bad field
  void validate() const;
};

class ShiftPredictor : public Module {
 public:
  // Dropout masks are drawn from `noise`, which the owner keeps alive and checkpoints.
  ShiftPredictor(const ShiftSpec& spec, Generator& noise);
  // w (N, d), t (N, K) -> dw (N, d).
  Tensor shift(const Tensor& w, const Tensor& t);
  const ShiftSpec& spec() const { return spec_; }

 private:
  ShiftSpec spec_;
  std::shared_ptr<Sequential> net_;
};

// The metadata key of the ShiftSpec JSON in a train_shift checkpoint; S's weights are "S.".
inline constexpr const char* kShiftSpecKey = "shift_spec";

// `n` target vectors drawn uniformly from {-1, 0, +1}^K without the all-zero one (every row asks
// for something), as an (n, K) tensor; consumes one uniform per row of `noise`.
Tensor draw_targets(int64_t n, int64_t k, Generator& noise, Device device = Device::cpu);

// t's rows as targets: row i sets attribute `attribute` to `value[i]` (+1 / -1) and the others
// to `others` (n, K) when given (the factual values: the controlled, direct effect) or to 0
// (don't care: the total effect).
Tensor targets_setting(int64_t attribute, const std::vector<int8_t>& value, int64_t k,
                       const std::vector<int8_t>& others = {});

}  // namespace cfgan
