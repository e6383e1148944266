// Modules: named parameters and buffers, children, train/eval mode. Members are
// registered by address, so a module neither copies nor moves; hold it by pointer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace cfgan {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using TensorMap = std::map<std::string, Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Single-input modules (layers, Sequential) implement this; models with other
  // signatures (a conditional generator) define their own forward instead.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Recursive, with "child.name" keys, in registration order.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  NamedTensors state_dict() const;  // parameters then buffers
  // Copies values from `state` (keys prefix + name) into this module. Every parameter
  // and buffer must be present with the same shape; errors name the key and shapes.
  void load_state_dict(const TensorMap& state, const std::string& prefix = "");

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  // Sets requires_grad on every parameter: off, backward passes through the module (to
  // its inputs) without computing its weight gradients.
  void requires_grad_(bool on);
  void to(Device d);  // moves every parameter and buffer
  int64_t parameter_count() const;
  // Calls fn on every descendant, then on this module (initialization schemes use it).
  void apply(const std::function<void(Module&)>& fn);

 protected:
  void register_parameter(const std::string& name, Tensor* slot);  // marks it requires_grad
  void register_buffer(const std::string& name, Tensor* slot);
  void register_module(const std::string& name, std::shared_ptr<Module> child);
  // Removes a parameter registration and returns its slot (spectral norm takes over a weight).
  Tensor* take_parameter(const std::string& name);

  friend class SpectralNorm;

 private:
  void collect(const std::string& prefix, bool parameters, NamedTensors& out) const;
  std::vector<std::pair<std::string, Tensor*>> parameters_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Turns requires_grad off for a module's parameters while it lives. In a generator's update
// the discriminator's parameters need no gradients (it was already updated, and its
// gradients are zeroed before its next update), so its backward skips its weight
// gradients: about a tenth of the reference DCGAN's step.
class FrozenParameters {
 public:
  explicit FrozenParameters(Module& m) : module_(m) { module_.requires_grad_(false); }
  ~FrozenParameters() { module_.requires_grad_(true); }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  Module& module_;
};

// Restores a module's buffers (batch-norm running statistics, spectral-norm vectors) when it
// goes out of scope: for a training-mode pass over inputs the module must not learn from,
// such as an encoder reading generated images, whose eval-mode statistics must stay those
// of real ones.
class KeptBuffers {
 public:
  explicit KeptBuffers(Module& m);
  ~KeptBuffers();
  KeptBuffers(const KeptBuffers&) = delete;
  KeptBuffers& operator=(const KeptBuffers&) = delete;

 private:
  Module& module_;
  std::vector<Tensor> saved_;
};

}  // namespace cfgan
