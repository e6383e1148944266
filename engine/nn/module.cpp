#include "engine/nn/module.h"

#include "engine/error.h"

namespace cfgan {

Tensor Module::forward(const Tensor&) { fail("this module has no single-input forward()"); }

void Module::collect(const std::string& prefix, bool parameters, NamedTensors& out) const {
  for (const auto& [name, slot] : parameters ? parameters_ : buffers_) out.emplace_back(prefix + name, *slot);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", parameters, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& entry : named_buffers()) out.push_back(entry);
  return out;
}

void Module::load_state_dict(const TensorMap& state, const std::string& prefix) {
  for (auto& [name, t] : state_dict()) {
    const std::string key = prefix + name;
    auto it = state.find(key);
    CFGAN_CHECK(it != state.end(), "load_state_dict: tensor '", key, "' is missing");
    CFGAN_CHECK(it->second.shape() == t.shape(), "load_state_dict: tensor '", key, "' has shape ",
                it->second.shape().str(), ", the model expects ", t.shape().str());
    t.copy_(it->second);
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, slot] : parameters_) slot->zero_grad();
  for (auto& [name, child] : children_) child->zero_grad();
}

void Module::requires_grad_(bool on) {
  for (auto& [name, slot] : parameters_) slot->requires_grad_(on);
  for (auto& [name, child] : children_) child->requires_grad_(on);
}

void Module::to(Device d) {
  for (auto& [name, slot] : parameters_) {
    if (slot->device() == d) continue;
    *slot = slot->to(d);
    slot->requires_grad_(true);
  }
  for (auto& [name, slot] : buffers_) *slot = slot->to(d);
  for (auto& [name, child] : children_) child->to(d);
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

void Module::register_parameter(const std::string& name, Tensor* slot) {
  CFGAN_CHECK(slot->defined(), "register_parameter: '", name, "' is undefined");
  slot->requires_grad_(true);
  parameters_.emplace_back(name, slot);
}

void Module::register_buffer(const std::string& name, Tensor* slot) { buffers_.emplace_back(name, slot); }

void Module::register_module(const std::string& name, std::shared_ptr<Module> child) {
  children_.emplace_back(name, std::move(child));
}

Tensor* Module::take_parameter(const std::string& name) {
  for (auto it = parameters_.begin(); it != parameters_.end(); ++it) {
    if (it->first == name) {
      Tensor* slot = it->second;
      parameters_.erase(it);
      return slot;
    }
  }
  fail("module has no parameter '", name, "'");
}

KeptBuffers::KeptBuffers(Module& m) : module_(m) {
  for (auto& [name, buffer] : module_.named_buffers()) {
    saved_.push_back(Tensor::empty(buffer.shape(), buffer.device()));
    saved_.back().copy_(buffer);
  }
}

KeptBuffers::~KeptBuffers() {
  size_t i = 0;
  for (auto& [name, buffer] : module_.named_buffers()) buffer.copy_(saved_[i++]);
}

}  // namespace cfgan
