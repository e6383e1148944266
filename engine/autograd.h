// Define-by-run autograd. Every op whose inputs require grad records a Node on its
// output: the inputs and a backward closure. Tensor::backward() walks the nodes in
// reverse topological order; each closure ACCUMULATES into its inputs' gradients (the
// first gradient a buffer receives may be written instead: GradSink::target).
// After the walk the nodes are freed; reaching a freed node again is an error, so
// gradients are never silently doubled.
//
// Second derivatives: a walk with create_graph records the backward passes themselves
// (the gradients it produces are tensors with a graph, differentiable again) and keeps
// the forward graph, which that graph refers to. A closure then computes its gradient
// with the public ops and hands it over with GradSink::add; a closure that writes raw
// kernel output into GradSink::grad(i) still gives the right values, but its result is
// marked as having no backward, so differentiating through it is an error naming the op.
#pragma once

#include <functional>
#include <initializer_list>
#include <span>
#include <string>
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
  // The error a walk reports on reaching a node without a backward.
  virtual std::string missing_backward() const;

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

// One backward walk's settings, shared by the GradSinks of its nodes.
struct BackwardWalk {
  uint64_t id = 0;            // marks the tensors this walk reaches
  bool create_graph = false;  // the backward records its own graph
  bool restricted = false;    // grad(): only tensors marked `needed` get a gradient
};

// A gradient buffer for a kernel that can either write its result or add it in.
// `fresh`: nothing has reached the buffer yet and its contents are undefined, so the
// kernel must write every element; otherwise it adds into what is there. Most tensors
// receive one gradient, which is then written once instead of zero-filled and added to.
struct GradTarget {
  const Tensor& grad;
  bool fresh;
  float beta() const { return fresh ? 0.0f : 1.0f; }  // for kernels that take C = ... + beta C
};

// What a backward closure writes into: the gradient buffers of the node's inputs.
class GradSink {
 public:
  GradSink(const Node& node, const BackwardWalk& walk) : node_(node), walk_(walk) {}
  // Whether input i takes a gradient in this walk (grad() asks for only some inputs).
  bool needs(int i) const;
  // True when the walk records its own graph: express the gradient with the public ops
  // (capturing the op's inputs themselves, not detached copies) and hand it over with add().
  bool create_graph() const { return walk_.create_graph; }
  // Input i's gradient buffer, zero-filled on first use; kernels add into it.
  const Tensor& grad(int i);
  // Input i's gradient buffer for a kernel that writes it when fresh and adds into it
  // otherwise; not zero-filled.
  GradTarget target(int i);
  // Adds g (input i's shape) into input i's gradient: how a backward written with the
  // public ops (outside the engine) hands its result over. Under create_graph the sum is
  // taken with recorded ops, never in place.
  void add(int i, const Tensor& g);
  // Called by the walk after the closure: hands raw buffers from grad(i) over (create_graph).
  void finish(const Tensor& grad_out);

 private:
  const Node& node_;
  const BackwardWalk& walk_;
  std::vector<Tensor> raw_;  // create_graph: buffers grad(i) gave out, one per input
};

bool grad_enabled();

// Sets grad mode (recording on or off) for a scope and restores the previous mode after.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// Disables recording in its scope (sampling, optimizer steps, evaluation).
class NoGrad : public GradModeGuard {
 public:
  NoGrad() : GradModeGuard(false) {}
};

// Enables recording in its scope, whatever an enclosing NoGrad says (a function that
// needs gradients of its own, such as a penalty on an input gradient).
class EnableGrad : public GradModeGuard {
 public:
  EnableGrad() : GradModeGuard(true) {}
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

// Runs backward from `root` seeded with `grad` (see Tensor::backward). With
// create_graph the leaves' gradients are tensors with a graph and the graph is kept.
void run_backward(const Tensor& root, const Tensor& grad, bool create_graph = false);

// The gradients of sum_i <outputs[i], grad_outputs[i]> with respect to `inputs`, returned
// in the order of `inputs`, without touching any tensor's grad(); only the part of the
// graph between the outputs and the inputs runs. grad_outputs may be empty when every
// output has one element (then 1 each). Without create_graph the graph is freed, as by
// backward(); with it the results have a graph of their own (differentiate them again,
// e.g. a penalty on an input gradient) and the forward graph is kept for that. Every
// input must require grad and be reached from an output.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         bool create_graph = false, const std::vector<Tensor>& grad_outputs = {});
// grad() for one one-element output and one input, without the vectors: d output / d input.
// A training step that calls it every time allocates no heap memory once warm.
Tensor gradient(const Tensor& output, const Tensor& input, bool create_graph = false);

}  // namespace cfgan
