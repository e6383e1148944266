#include "engine/autograd.h"

#include <unordered_set>

#include "engine/error.h"
#include "engine/ops.h"

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

bool grad_enabled() { return g_grad_enabled; }

NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

bool any_requires_grad(std::span<const Tensor> inputs) {
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void attach_node(Tensor& out, const char* name, std::span<const Tensor> inputs, BackwardFn fn) {
  auto node = std::make_shared<Node>(Node{name, std::vector<Tensor>(inputs.begin(), inputs.end()), std::move(fn)});
  TensorImpl* impl = out.impl();
  impl->grad_fn = std::move(node);
  impl->requires_grad = true;
  impl->producer = name;
}

namespace {

// Tensors reachable from root through nodes, inputs before the tensors made from them.
// Fails before any gradient is touched when the graph was freed or an op lacks a backward.
// The list holds strong references: freeing a node during the walk must not free a
// tensor that is still to be visited.
std::vector<Tensor> topological_order(const Tensor& root) {
  std::vector<Tensor> order;
  std::unordered_set<TensorImpl*> seen{root.impl()};
  std::vector<std::pair<Tensor, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [tensor, next] = stack.back();
    TensorImpl* impl = tensor.impl();
    if (impl->graph_released) {
      fail("backward: the graph through '", impl->producer,
           "' was already freed by an earlier backward(); recompute the forward pass before calling backward again");
    }
    const Node* node = impl->grad_fn.get();
    if (node && !node->backward) {
      fail("backward: op '", node->name, "' has no backward, but an input of it requires grad");
    }
    if (!node || next == node->inputs.size()) {
      order.push_back(std::move(tensor));
      stack.pop_back();
      continue;
    }
    const Tensor& child = node->inputs[next++];
    if (child.requires_grad() && seen.insert(child.impl()).second) stack.push_back({child, 0});
  }
  return order;
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad) {
  CFGAN_CHECK(root.requires_grad(), "backward: the tensor does not require grad (no input of its graph has "
              "requires_grad set)");
  CFGAN_CHECK(grad.shape() == root.shape(), "backward: gradient shape ", grad.shape().str(),
              " does not match tensor shape ", root.shape().str());
  CFGAN_CHECK(grad.device() == root.device(), "backward: gradient is on ", device_name(grad.device()),
              ", tensor on ", device_name(root.device()));
  const std::vector<Tensor> order = topological_order(root);
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
}

}  // namespace cfgan
