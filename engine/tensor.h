// Tensor: float32, contiguous, NCHW, on one device. A Tensor is a cheap handle to
// shared state (copying it aliases, like a PyTorch tensor). Views (reshape, outer-dim
// slices) share storage with an element offset.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "engine/device.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace cfgan {

class Generator;
struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false

  // ---- creation ----
  static Tensor empty(const Shape& shape, Device d = Device::cpu);  // uninitialized
  static Tensor zeros(const Shape& shape, Device d = Device::cpu);
  static Tensor ones(const Shape& shape, Device d = Device::cpu);
  static Tensor full(const Shape& shape, float value, Device d = Device::cpu);
  static Tensor from_host(const Shape& shape, const std::vector<float>& values, Device d = Device::cpu);
  static Tensor scalar(float value, Device d = Device::cpu);  // shape []
  static Tensor arange(int64_t n, Device d = Device::cpu);    // 0, 1, ..., n-1
  static Tensor rand(const Shape& shape, Generator& gen, Device d = Device::cpu, float lo = 0.0f, float hi = 1.0f);
  static Tensor randn(const Shape& shape, Generator& gen, Device d = Device::cpu, float mean = 0.0f, float std = 1.0f);

  // ---- inspection ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return shape().numel(); }
  Device device() const;
  float* data() const;  // device pointer to the first element
  std::vector<float> to_host() const;
  float item() const;  // the value of a one-element tensor
  Tensor to(Device d) const;

  // ---- in place, outside autograd (optimizers, loading, EMA) ----
  void copy_(const Tensor& src);  // same shape; any device
  void fill_(float value);

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this tensor
  void zero_grad();     // drops the gradient (the next backward starts from zero)
  // From a one-element tensor, d self = 1 / d self = grad (same shape). With
  // create_graph the backward records its own graph: the leaves' gradients can be
  // differentiated again, and the graph is kept for that (see engine/autograd.h; grad()
  // there returns gradients without storing them).
  void backward(bool create_graph = false) const;
  void backward(const Tensor& grad, bool create_graph = false) const;
  Tensor detach() const;         // same storage, outside the graph
  const char* producer() const;  // op that made this tensor ("" for leaves)

  // A view of the same storage (numel must match). Use reshape() in ops.h to record it.
  Tensor view_as(const Shape& shape) const;
  // Rows [start, start+length) of dim 0, sharing storage (no gradient link).
  Tensor outer_slice(int64_t start, int64_t length) const;

  TensorImpl* impl() const { return impl_.get(); }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<TensorImpl> impl_;
  friend struct TensorImpl;
  friend Tensor make_tensor(std::shared_ptr<TensorImpl>);
};

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // elements into storage
  bool requires_grad = false;
  bool graph_released = false;  // its node was freed by a backward()
  uint64_t visit_mark = 0;      // last backward walk that reached it
  uint64_t needed_mark = 0;     // last grad() walk in which it leads to a requested input
  const char* producer = "";
  std::shared_ptr<Node> grad_fn;
  Tensor grad;
};

Tensor make_tensor(std::shared_ptr<TensorImpl> impl);

// Readable printing: values (elided past a few per dim), shape, device, producer.
std::ostream& operator<<(std::ostream& out, const Tensor& t);

}  // namespace cfgan
