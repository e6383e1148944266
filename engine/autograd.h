// Define-by-run autograd. Every op whose inputs require grad records a Node on its
// output: the inputs and a backward closure. Tensor::backward() walks the nodes in
// reverse topological order; each closure ACCUMULATES into its inputs' gradients.
// After the walk the nodes are freed; reaching a freed node again is an error, so
// gradients are never silently doubled.
#pragma once

#include <functional>
#include <initializer_list>
#include <span>
#include <type_traits>
#include <vector>

#include "engine/recycling.h"
#include "engine/tensor.h"

namespace cfgan {

class GradSink;

// grad_out has the output's shape. Closures must not capture their own output by
// value (a cycle); capture out.detach() when the backward needs the output's values.
using BackwardFn = std::function<void(const Tensor& grad_out, GradSink& grads)>;
using TensorList = std::vector<Tensor, RecyclingAllocator<Tensor>>;

struct Node {
  Node(const char* op, std::span<const Tensor> in) : name(op), inputs(in.begin(), in.end()) {}
  virtual ~Node() = default;
  virtual bool has_backward() const = 0;  // false: reaching this node is an error
  virtual void backward(const Tensor& grad_out, GradSink& grads) = 0;

  const char* name;
  TensorList inputs;
};

// A node holding its backward closure by value: one pooled allocation per op, no
// type-erased function object.
template <typename F>
struct NodeWith final : Node {
  NodeWith(const char* op, std::span<const Tensor> in, F f) : Node(op, in), fn(std::move(f)) {}
  bool has_backward() const override {
    if constexpr (std::is_same_v<F, BackwardFn>) {
      return static_cast<bool>(fn);
    } else {
      return true;
    }
  }
  void backward(const Tensor& grad_out, GradSink& grads) override { fn(grad_out, grads); }
  F fn;
};

// What a backward closure writes into: the gradient buffers of the node's inputs.
class GradSink {
 public:
  explicit GradSink(const Node& node) : node_(node) {}
  bool needs(int i) const;
  // Input i's gradient buffer, zero-filled on first use; kernels add into it.
  const Tensor& grad(int i);
  // Adds g (input i's shape) into input i's gradient: how a backward written with the
  // public ops (outside the engine) hands its result over.
  void add(int i, const Tensor& g);

 private:
  const Node& node_;
};

bool grad_enabled();

// Disables recording in its scope (sampling, optimizer steps, evaluation).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

bool any_requires_grad(std::span<const Tensor> inputs);

// Makes `node` the producer of `out` (out then requires grad).
void attach(Tensor& out, std::shared_ptr<Node> node);

// Attaches a node to `out` when grad mode is on and an input requires grad.
void attach_node(Tensor& out, const char* name, std::span<const Tensor> inputs, BackwardFn fn);

template <typename F>
void record(Tensor& out, const char* name, std::span<const Tensor> inputs, F&& fn) {
  if (grad_enabled() && any_requires_grad(inputs)) {
    attach(out, make_recycled<NodeWith<std::decay_t<F>>>(name, inputs, std::forward<F>(fn)));
  }
}

template <typename F>
void record(Tensor& out, const char* name, std::initializer_list<Tensor> inputs, F&& fn) {
  record(out, name, std::span<const Tensor>(inputs.begin(), inputs.size()), std::forward<F>(fn));
}

template <typename F>
void record(Tensor& out, const char* name, const std::vector<Tensor>& inputs, F&& fn) {
  record(out, name, std::span<const Tensor>(inputs), std::forward<F>(fn));
}

// Runs backward from `root` seeded with `grad` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& grad);

}  // namespace cfgan
