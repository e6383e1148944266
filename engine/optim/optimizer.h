// Optimizers over named parameters. State (moments, step count) is exposed as named
// tensors so checkpoints can save it and --resume continues exactly.
#pragma once

#include <cstdint>
#include <string>

#include "engine/nn/module.h"

namespace cfgan {

class Optimizer {
 public:
  explicit Optimizer(NamedTensors params);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient; parameters without one are skipped.
  virtual void step() = 0;
  void zero_grad();
  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  int64_t steps() const { return steps_; }

  // Named state tensors ("<kind>.<param name>") plus "step" as a one-element tensor.
  NamedTensors state_dict() const;
  // Errors name the missing key or the mismatched shape.
  void load_state_dict(const TensorMap& state, const std::string& prefix = "");

 protected:
  // One zero tensor shaped like each parameter.
  std::vector<Tensor> zeros_like_params() const;

  NamedTensors params_;
  std::vector<std::pair<std::string, std::vector<Tensor>*>> state_;
  float lr_ = 1e-3f;
  int64_t steps_ = 0;
};

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f, beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  // L2 added to the gradient, as torch.optim.Adam
};

class Adam : public Optimizer {
 public:
  Adam(NamedTensors params, AdamOptions opt = {});
  void step() override;

 private:
  AdamOptions opt_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

struct SgdOptions {
  float lr = 1e-2f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
};

class SGD : public Optimizer {
 public:
  SGD(NamedTensors params, SgdOptions opt = {});
  void step() override;

 private:
  SgdOptions opt_;
  std::vector<Tensor> momentum_buffer_;
};

}  // namespace cfgan
