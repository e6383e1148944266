#include "engine/tensor.h"

#include <iomanip>
#include <ostream>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/random.h"
#include "engine/recycling.h"

namespace cfgan {

Tensor make_tensor(std::shared_ptr<TensorImpl> impl) { return Tensor(std::move(impl)); }

Tensor Tensor::empty(const Shape& shape, Device d) {
  auto impl = make_recycled<TensorImpl>();
  impl->shape = shape;
  impl->storage = Storage::make(sizeof(float) * static_cast<size_t>(shape.numel()), d);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, Device d) { return full(shape, 0.0f, d); }
Tensor Tensor::ones(const Shape& shape, Device d) { return full(shape, 1.0f, d); }

Tensor Tensor::full(const Shape& shape, float value, Device d) {
  Tensor t = empty(shape, d);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_host(const Shape& shape, const std::vector<float>& values, Device d) {
  CFGAN_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_host: shape ", shape.str(), " needs ",
              shape.numel(), " values, got ", values.size());
  Tensor t = empty(shape, d);
  kernels_for(d).copy_from_host(t.data(), values.data(), sizeof(float) * values.size());
  return t;
}

Tensor Tensor::scalar(float value, Device d) { return full(Shape{}, value, d); }

Tensor Tensor::arange(int64_t n, Device d) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = static_cast<float>(i);
  return from_host(Shape{n}, values, d);
}

Tensor Tensor::rand(const Shape& shape, Generator& gen, Device d, float lo, float hi) {
  Tensor t = empty(shape, d);
  const uint64_t offset = gen.advance(t.numel());
  kernels_for(d).uniform(t.data(), t.numel(), gen.seed(), offset, lo, hi);
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen, Device d, float mean, float std) {
  Tensor t = empty(shape, d);
  const uint64_t offset = gen.advance(t.numel());
  kernels_for(d).normal(t.data(), t.numel(), gen.seed(), offset, mean, std);
  return t;
}

const Shape& Tensor::shape() const {
  CFGAN_CHECK(impl_, "use of an undefined tensor");
  return impl_->shape;
}

int64_t Tensor::dim(int i) const { return shape()[normalize_dim(i, ndim(), "Tensor::dim")]; }

Device Tensor::device() const {
  CFGAN_CHECK(impl_, "use of an undefined tensor");
  return impl_->storage->device();
}

float* Tensor::data() const {
  CFGAN_CHECK(impl_, "use of an undefined tensor");
  return static_cast<float*>(impl_->storage->data()) + impl_->offset;
}

std::vector<float> Tensor::to_host() const {
  std::vector<float> values(static_cast<size_t>(numel()));
  kernels_for(device()).copy_to_host(values.data(), data(), sizeof(float) * values.size());
  return values;
}

float Tensor::item() const {
  CFGAN_CHECK(numel() == 1, "item: tensor of shape ", shape().str(), " has ", numel(), " elements, expected 1");
  float value;
  kernels_for(device()).copy_to_host(&value, data(), sizeof(float));
  return value;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor out = empty(shape(), d);
  const size_t bytes = sizeof(float) * static_cast<size_t>(numel());
  if (d == Device::cpu) {
    kernels_for(device()).copy_to_host(out.data(), data(), bytes);
  } else {
    kernels_for(d).copy_from_host(out.data(), data(), bytes);
  }
  return out;
}

void Tensor::copy_(const Tensor& src) {
  CFGAN_CHECK(src.shape() == shape(), "copy_: source shape ", src.shape().str(), " does not match destination ",
              shape().str());
  const size_t bytes = sizeof(float) * static_cast<size_t>(numel());
  if (src.device() == device()) {
    kernels_for(device()).copy(data(), src.data(), bytes);
  } else if (device() == Device::cpu) {
    kernels_for(src.device()).copy_to_host(data(), src.data(), bytes);
  } else {
    kernels_for(device()).copy_from_host(data(), src.data(), bytes);
  }
}

void Tensor::fill_(float value) { kernels_for(device()).fill(data(), value, numel()); }

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  CFGAN_CHECK(is_leaf(), "requires_grad_: only leaf tensors can change requires_grad (this one was made by '",
              producer(), "'); use detach() first");
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl_ && !impl_->grad_fn && !impl_->graph_released; }

Tensor Tensor::grad() const { return impl_ ? impl_->grad : Tensor(); }

void Tensor::zero_grad() {
  if (impl_) impl_->grad = Tensor();
}

void Tensor::backward(bool create_graph) const {
  CFGAN_CHECK(numel() == 1, "backward: called without a gradient on a tensor of shape ", shape().str(),
              "; only one-element tensors get the implicit gradient 1");
  run_backward(*this, Tensor::ones(shape(), device()), create_graph);
}

void Tensor::backward(const Tensor& grad, bool create_graph) const { run_backward(*this, grad, create_graph); }

Tensor Tensor::detach() const {
  auto impl = make_recycled<TensorImpl>();
  impl->shape = shape();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  return Tensor(std::move(impl));
}

const char* Tensor::producer() const { return impl_ ? impl_->producer : ""; }

Tensor Tensor::view_as(const Shape& new_shape) const {
  CFGAN_CHECK(new_shape.numel() == numel(), "view: cannot view a tensor of shape ", shape().str(), " as ",
              new_shape.str());
  Tensor t = detach();
  t.impl_->shape = new_shape;
  return t;
}

Tensor Tensor::outer_slice(int64_t start, int64_t length) const {
  CFGAN_CHECK(ndim() >= 1 && start >= 0 && length >= 0 && start + length <= dim(0), "outer_slice: rows [", start, ", ",
              start + length, ") are out of range for shape ", shape().str());
  Tensor t = detach();
  t.impl_->shape[0] = length;
  t.impl_->offset += start * (numel() / dim(0));
  return t;
}

namespace {

void print_values(std::ostream& out, const std::vector<float>& v, const Shape& s, int d, int64_t offset,
                  int64_t stride) {
  constexpr int64_t kEdge = 3;
  if (s.ndim() == 0) {
    out << v[0];
    return;
  }
  const int64_t n = s[d];
  const int64_t inner = stride / n;
  out << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (n > 2 * kEdge && i == kEdge) {
      out << "..., ";
      i = n - kEdge;
    }
    if (d + 1 == s.ndim()) {
      out << v[offset + i];
    } else {
      print_values(out, v, s, d + 1, offset + i * inner, inner);
    }
    if (i + 1 < n) out << ", ";
  }
  out << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  if (!t.defined()) return out << "tensor(undefined)";
  const std::ios_base::fmtflags flags = out.flags();
  const std::streamsize precision = out.precision();
  out << "tensor(" << std::setprecision(4);
  print_values(out, t.to_host(), t.shape(), 0, 0, t.numel());
  out << ", shape=" << t.shape().str() << ", device=" << device_name(t.device());
  if (*t.producer()) out << ", producer=" << t.producer();
  if (t.requires_grad()) out << ", requires_grad";
  out.flags(flags);
  out.precision(precision);
  return out << ")";
}

}  // namespace cfgan
