#include "engine/autograd.h"

#include <utility>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

thread_local bool g_grad_enabled = true;

// A gradient that a closure wrote with raw kernels during a create_graph walk: the values
// are right, but nothing knows how they change with the node's inputs.
struct UndifferentiableBackward final : Node {
  UndifferentiableBackward(const char* op, std::span<const Tensor> in) : Node(op, in) {}
  bool has_backward() const override { return false; }
  void backward(const Tensor&, GradSink&) override {}
  std::string missing_backward() const override {
    return cat("the backward of op '", name, "' is not differentiable: second derivatives through ", name,
               " are not supported");
  }
};

// Input-gradient buffer `slot`, created unfilled when it does not exist yet.
GradTarget target_in(Tensor& slot, const Tensor& input) {
  const bool fresh = !slot.defined();
  if (fresh) slot = Tensor::empty(input.shape(), input.device());
  return {slot, fresh};
}

// Adds g into t's gradient. A plain walk adds in place (the first gradient is copied); a
// create_graph walk adds with recorded ops and never writes into a tensor it did not make.
void add_to_grad(const Tensor& t, const Tensor& g, const BackwardWalk& walk) {
  TensorImpl* impl = t.impl();
  if (!walk.create_graph) {
    write_or_accumulate(target_in(impl->grad, t), g);
  } else if (impl->grad.defined()) {
    impl->grad = add(impl->grad, g);
  } else if (!walk.restricted && !impl->grad_fn) {
    // A leaf keeps the gradient after the walk, and a later plain backward adds into it
    // in place: it gets a tensor of its own, not one shared with the graph or the seed.
    impl->grad = g * 1.0f;
  } else {
    impl->grad = g;
  }
}

}  // namespace

std::string Node::missing_backward() const {
  return cat("op '", name, "' has no backward, but an input of it requires grad");
}

bool GradSink::needs(int i) const {
  const Tensor& input = node_.inputs[i];
  return input.requires_grad() && (!walk_.restricted || input.impl()->needed_mark == walk_.id);
}

const Tensor& GradSink::grad(int i) {
  CFGAN_CHECK(needs(i), "backward of ", node_.name, ": input ", i, " does not take a gradient");
  const Tensor& input = node_.inputs[i];
  if (walk_.create_graph) {
    if (raw_.empty()) raw_.resize(node_.inputs.size());
    if (!raw_[i].defined()) raw_[i] = Tensor::zeros(input.shape(), input.device());
    return raw_[i];
  }
  TensorImpl* impl = input.impl();
  if (!impl->grad.defined()) impl->grad = Tensor::zeros(impl->shape, input.device());
  return impl->grad;
}

GradTarget GradSink::target(int i) {
  CFGAN_CHECK(needs(i), "backward of ", node_.name, ": input ", i, " does not take a gradient");
  const Tensor& input = node_.inputs[i];
  if (walk_.create_graph) {
    if (raw_.empty()) raw_.resize(node_.inputs.size());
    return target_in(raw_[i], input);
  }
  return target_in(input.impl()->grad, input);
}

void GradSink::add(int i, const Tensor& g) {
  const Tensor& input = node_.inputs[i];
  CFGAN_CHECK(g.shape() == input.shape(), "backward of ", node_.name, ": the gradient of input ", i, " has shape ",
              g.shape().str(), ", the input ", input.shape().str());
  CFGAN_CHECK(g.device() == input.device(), "backward of ", node_.name, ": the gradient of input ", i, " is on ",
              device_name(g.device()), ", the input on ", device_name(input.device()));
  if (!walk_.create_graph) {
    write_or_accumulate(target(i), g);
    return;
  }
  CFGAN_CHECK(needs(i), "backward of ", node_.name, ": input ", i, " does not take a gradient");
  add_to_grad(input, g, walk_);
}

void GradSink::finish(const Tensor& grad_out) {
  for (size_t i = 0; i < raw_.size(); ++i) {
    if (!raw_[i].defined()) continue;
    Tensor g = raw_[i];
    std::vector<Tensor> sources(node_.inputs.begin(), node_.inputs.end());
    sources.push_back(grad_out);
    if (grad_enabled() && any_requires_grad(sources)) {
      attach(g, make_recycled<UndifferentiableBackward>(node_.name, sources));
    }
    add_to_grad(node_.inputs[i], g, walk_);
  }
  raw_.clear();
}

bool grad_enabled() { return g_grad_enabled; }

GradModeGuard::GradModeGuard(bool enabled) : previous_(g_grad_enabled) { g_grad_enabled = enabled; }
GradModeGuard::~GradModeGuard() { g_grad_enabled = previous_; }

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

// Tensors reachable from the roots through nodes, inputs before the tensors made from
// them, into `order`. Fails before any gradient is touched when the graph was freed or an
// op lacks a backward. The list holds strong references: freeing a node during the walk
// must not free a tensor still to be visited. Containers are reused across calls and a
// per-walk mark replaces a visited set, so a steady training step allocates nothing here.
void topological_order(std::span<const Tensor> roots, uint64_t walk, std::vector<Tensor>& order) {
  thread_local std::vector<std::pair<Tensor, size_t>> stack;
  order.clear();
  stack.clear();
  for (const Tensor& root : roots) {
    if (root.impl()->visit_mark == walk) continue;
    root.impl()->visit_mark = walk;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [tensor, next] = stack.back();
      TensorImpl* impl = tensor.impl();
      if (impl->graph_released) {
        stack.clear();
        fail("backward: the graph through '", impl->producer,
             "' was already freed by an earlier backward(); recompute the forward pass before calling backward "
             "again");
      }
      const Node* node = impl->grad_fn.get();
      if (node && !node->has_backward()) {
        const std::string why = node->missing_backward();
        stack.clear();
        fail("backward: ", why);
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
}

bool has_needed_input(const Node& node, uint64_t walk) {
  for (const Tensor& in : node.inputs) {
    if (in.requires_grad() && in.impl()->needed_mark == walk) return true;
  }
  return false;
}

// grad(): marks the tensors of `order` that lead to a requested input; only their nodes run.
void mark_needed(const std::vector<Tensor>& order, std::span<const Tensor> inputs, uint64_t walk) {
  for (const Tensor& t : inputs) t.impl()->needed_mark = walk;
  for (const Tensor& t : order) {  // inputs before the tensors made from them
    const Node* node = t.impl()->grad_fn.get();
    if (node && has_needed_input(*node, walk)) t.impl()->needed_mark = walk;
  }
}

// The walk shared by backward() and grad(): seeds the roots, runs the nodes in reverse
// topological order and, for grad(), hands each requested input's gradient to `results`
// as the walk passes it (all its contributions are in by then).
void walk_backward(std::span<const Tensor> roots, std::span<const Tensor> seeds, bool create_graph,
                   std::span<const Tensor> inputs, std::span<Tensor> results, bool restricted) {
  thread_local uint64_t walk_id = 0;
  thread_local std::vector<Tensor> order;
  // The walk's references go when it ends, thrown out of included, not at the next backward.
  struct ClearedOnExit {
    std::vector<Tensor>& tensors;
    ~ClearedOnExit() { tensors.clear(); }
  } const cleared{order};
  const BackwardWalk walk{++walk_id, create_graph, restricted};
  topological_order(roots, walk.id, order);
  if (walk.restricted) mark_needed(order, inputs, walk.id);
  const GradModeGuard mode(create_graph);  // a walk records (create_graph) or not, whatever its caller does
  for (size_t i = 0; i < roots.size(); ++i) {
    // grad() leaves a leaf's gradient alone unless it asked for it.
    const TensorImpl* root = roots[i].impl();
    if (walk.restricted && !root->grad_fn && root->needed_mark != walk.id) continue;
    add_to_grad(roots[i], seeds[i], walk);
  }
  const bool release = !create_graph;  // the graph of a create_graph walk's results refers to it
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* impl = it->impl();
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (inputs[j].same(*it)) results[j] = impl->grad;
    }
    if (!impl->grad_fn) continue;  // a leaf: keeps its gradient
    std::shared_ptr<Node> owned = release ? std::move(impl->grad_fn) : nullptr;
    Node* node = release ? owned.get() : impl->grad_fn.get();
    if (impl->grad.defined() && (!walk.restricted || has_needed_input(*node, walk.id))) {
      GradSink sink(*node, walk);
      node->backward(impl->grad, sink);
      sink.finish(impl->grad);
    }
    if (release) impl->graph_released = true;
    impl->grad = Tensor();
  }
}

// grad() and gradient(): the inputs' own gradients are set aside for the walk, so it leaves
// them as they were. The buffer is reused, so a steady step allocates nothing here.
void gradients_into(std::span<const Tensor> outputs, std::span<const Tensor> seeds, std::span<const Tensor> inputs,
                    bool create_graph, std::span<Tensor> results) {
  for (size_t j = 0; j < inputs.size(); ++j) {
    CFGAN_CHECK(inputs[j].requires_grad(), "grad: input ", j, " does not require grad");
  }
  thread_local std::vector<Tensor> kept;
  kept.clear();
  for (const Tensor& t : inputs) kept.push_back(std::exchange(t.impl()->grad, Tensor()));
  const auto restore = [&] {  // in reverse: an input listed twice set aside its own gradient first
    for (size_t j = inputs.size(); j-- > 0;) inputs[j].impl()->grad = kept[j];
    kept.clear();
  };
  try {
    walk_backward(outputs, seeds, create_graph, inputs, results, true);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  for (size_t j = 0; j < inputs.size(); ++j) {
    CFGAN_CHECK(results[j].defined(), "grad: input ", j, " ", inputs[j].shape().str(),
                " is not reached from the outputs");
  }
}

void check_seed(const char* what, const Tensor& root, const Tensor& grad) {
  CFGAN_CHECK(root.requires_grad(), what,
              ": the tensor does not require grad (no input of its graph has requires_grad set)");
  CFGAN_CHECK(grad.shape() == root.shape(), what, ": gradient shape ", grad.shape().str(),
              " does not match tensor shape ", root.shape().str());
  CFGAN_CHECK(grad.device() == root.device(), what, ": gradient is on ", device_name(grad.device()), ", tensor on ",
              device_name(root.device()));
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool create_graph) {
  check_seed("backward", root, grad);
  walk_backward({&root, 1}, {&grad, 1}, create_graph, {}, {}, false);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs, bool create_graph,
                         const std::vector<Tensor>& grad_outputs) {
  CFGAN_CHECK(!outputs.empty(), "grad: no outputs given");
  CFGAN_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "grad: ", grad_outputs.size(),
              " grad_outputs for ", outputs.size(), " outputs");
  std::vector<Tensor> seeds = grad_outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (grad_outputs.empty()) {
      CFGAN_CHECK(outputs[i].numel() == 1, "grad: output ", i, " has shape ", outputs[i].shape().str(),
                  "; give grad_outputs for outputs of more than one element");
      seeds.push_back(Tensor::ones(outputs[i].shape(), outputs[i].device()));
    }
    check_seed("grad", outputs[i], seeds[i]);
  }
  std::vector<Tensor> results(inputs.size());
  gradients_into(outputs, seeds, inputs, create_graph, results);
  return results;
}

Tensor gradient(const Tensor& output, const Tensor& input, bool create_graph) {
  CFGAN_CHECK(output.numel() == 1, "gradient: the output has shape ", output.shape().str(),
              "; it must have one element (use grad() with grad_outputs otherwise)");
  const Tensor seed = Tensor::ones(output.shape(), output.device());
  check_seed("gradient", output, seed);
  Tensor result;
  gradients_into({&output, 1}, {&seed, 1}, {&input, 1}, create_graph, {&result, 1});
  return result;
}

}  // namespace cfgan
