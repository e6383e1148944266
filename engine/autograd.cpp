#include "engine/autograd.h"

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

thread_local bool g_grad_enabled = true;

}  // namespace

bool GradSink::needs(int i) const { return node_.inputs[i].requires_grad(); }

const Tensor& GradSink::grad(int i) {
  const Tensor& input = node_.inputs[i];
  CFGAN_CHECK(input.requires_grad(), "backward of ", node_.name, ": input ", i, " does not take a gradient");
  TensorImpl* impl = input.impl();
  if (!impl->grad.defined()) impl->grad = Tensor::zeros(impl->shape, input.device());
  return impl->grad;
}

void GradSink::add(int i, const Tensor& g) {
  const Tensor& input = node_.inputs[i];
  CFGAN_CHECK(g.shape() == input.shape(), "backward of ", node_.name, ": the gradient of input ", i, " has shape ",
              g.shape().str(), ", the input ", input.shape().str());
  CFGAN_CHECK(g.device() == input.device(), "backward of ", node_.name, ": the gradient of input ", i, " is on ",
              device_name(g.device()), ", the input on ", device_name(input.device()));
  accumulate(grad(i), g);
}

bool grad_enabled() { return g_grad_enabled; }

NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

bool any_requires_grad(std::span<const Tensor> inputs) {
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void attach(Tensor& out, std::shared_ptr<Node> node) {
  TensorImpl* impl = out.impl();
  impl->producer = node->name;
  impl->grad_fn = std::move(node);
  impl->requires_grad = true;
}

void attach_node(Tensor& out, const char* name, std::span<const Tensor> inputs, BackwardFn fn) {
  if (grad_enabled() && any_requires_grad(inputs)) attach(out, make_recycled<NodeWith<BackwardFn>>(name, inputs, fn));
}

namespace {

// Tensors reachable from root through nodes, inputs before the tensors made from them,
// into `order`. Fails before any gradient is touched when the graph was freed or an op
// lacks a backward. The list holds strong references: freeing a node during the walk
// must not free a tensor still to be visited. Containers are reused across calls and a
// per-walk mark replaces a visited set, so a steady training step allocates nothing here.
void topological_order(const Tensor& root, std::vector<Tensor>& order) {
  thread_local uint64_t walk = 0;
  thread_local std::vector<std::pair<Tensor, size_t>> stack;
  ++walk;
  order.clear();
  stack.clear();
  root.impl()->visit_mark = walk;
  stack.emplace_back(root, 0);
  while (!stack.empty()) {
    auto& [tensor, next] = stack.back();
    TensorImpl* impl = tensor.impl();
    if (impl->graph_released) {
      stack.clear();
      fail("backward: the graph through '", impl->producer,
           "' was already freed by an earlier backward(); recompute the forward pass before calling backward again");
    }
    const Node* node = impl->grad_fn.get();
    if (node && !node->has_backward()) {
      const char* name = node->name;
      stack.clear();
      fail("backward: op '", name, "' has no backward, but an input of it requires grad");
    }
    if (!node || next == node->inputs.size()) {
      order.push_back(std::move(tensor));
      stack.pop_back();
      continue;
    }
    const Tensor& child = node->inputs[next++];
    if (child.requires_grad() && child.impl()->visit_mark != walk) {
      child.impl()->visit_mark = walk;
      stack.emplace_back(child, 0);
    }
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad) {
  CFGAN_CHECK(root.requires_grad(),
              "backward: the tensor does not require grad (no input of its graph has "
              "requires_grad set)");
  CFGAN_CHECK(grad.shape() == root.shape(), "backward: gradient shape ", grad.shape().str(),
              " does not match tensor shape ", root.shape().str());
  CFGAN_CHECK(grad.device() == root.device(), "backward: gradient is on ", device_name(grad.device()), ", tensor on ",
              device_name(root.device()));
  thread_local std::vector<Tensor> order;
  topological_order(root, order);
  NoGrad no_grad;
  TensorImpl* r = root.impl();
  if (!r->grad.defined()) r->grad = Tensor::zeros(r->shape, root.device());
  kernels_for(root.device()).axpy(r->grad.data(), 1.0f, grad.data(), grad.numel());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* impl = it->impl();
    if (!impl->grad_fn) continue;  // a leaf: keeps its gradient
    std::shared_ptr<Node> node = std::move(impl->grad_fn);
    if (impl->grad.defined()) {
      GradSink sink(*node);
      node->backward(impl->grad, sink);
    }
    impl->graph_released = true;
    impl->grad = Tensor();
  }
  order.clear();  // the walk's references go now, not at the next backward
}

}  // namespace cfgan
