// Reductions (sum, mean, max), all over the middle axis of an (outer, r, inner) view of
// the input.
#include <algorithm>
#include <array>

#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

Shape reduced_shape(const Shape& s, int dim, bool keepdim) {
  Shape out;
  for (int i = 0; i < s.ndim(); ++i) {
    if (i != dim) {
      out.push_back(s[i]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

Tensor reduce_sum_split(const char* name, const Tensor& x, Split sp, const Shape& out_shape, float scale) {
  Tensor out = Tensor::empty(out_shape, x.device());
  const Kernels& k = kern(x);
  k.reduce_sum(out.data(), x.data(), sp.outer, sp.r, sp.inner, scale,
               workspace_of(scratch(k.reduce_workspace_bytes(sp.outer, sp.r, sp.inner), x.device())));
  record(out, name, {x}, [sp, scale, in_shape = x.shape()](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {
      const Tensor spread = broadcast_to(reshape(gout, Shape{sp.outer, 1, sp.inner}), Shape{sp.outer, sp.r, sp.inner});
      return grads.add(0, reshape(scale == 1.0f ? spread : spread * scale, in_shape));
    }
    kern(gout).reduce_sum_backward(grads.grad(0).data(), gout.data(), sp.outer, sp.r, sp.inner, scale);
  });
  return out;
}

}  // namespace

Tensor reduce_dims(const char* name, const Tensor& x, std::span<const int> dims, bool keepdim, bool average) {
  CFGAN_CHECK(static_cast<int>(dims.size()) <= x.ndim(), name, ": ", dims.size(), " dims given for a tensor of shape ",
              x.shape().str());
  std::array<int, kMaxDims> sorted{};
  for (size_t i = 0; i < dims.size(); ++i) sorted[i] = normalize_dim(dims[i], x.ndim(), name);
  const auto end = sorted.begin() + dims.size();
  std::sort(sorted.begin(), end);
  CFGAN_CHECK(std::adjacent_find(sorted.begin(), end) == end, name, ": a dim is listed twice");
  Tensor out = x;
  for (auto d = sorted.begin(); d != end; ++d) {  // keepdim while reducing keeps the remaining dim numbers valid
    const Split sp = split_at(out.shape(), *d);
    out = reduce_sum_split(name, out, sp, reduced_shape(out.shape(), *d, true), average ? 1.0f / sp.r : 1.0f);
  }
  if (keepdim) return out;
  Shape squeezed;
  for (int i = 0; i < x.ndim(); ++i) {
    if (!std::binary_search(sorted.begin(), end, i)) squeezed.push_back(x.dim(i));
  }
  return reshape(out, squeezed);
}

namespace {

Tensor max_split(const Tensor& x, Split sp, const Shape& out_shape) {
  CFGAN_CHECK(sp.r > 0, "max: cannot reduce an empty dimension of shape ", x.shape().str());
  Tensor out = Tensor::empty(out_shape, x.device());
  auto argmax = Storage::make(sizeof(int32_t) * std::max<int64_t>(out.numel(), 1), x.device());
  const Kernels& k = kern(x);
  k.reduce_max(out.data(), ints_mut(argmax), x.data(), sp.outer, sp.r, sp.inner,
               workspace_of(scratch(k.reduce_workspace_bytes(sp.outer, sp.r, sp.inner), x.device())));
  record(out, "max", {x}, [argmax, sp](const Tensor& gout, GradSink& grads) {
    kern(gout).reduce_max_backward(grads.grad(0).data(), gout.data(), ints(argmax), sp.outer, sp.r, sp.inner);
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce_sum_split("sum", x, {1, x.numel(), 1}, Shape{}, 1.0f); }

Tensor sum(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  return reduce_dims("sum", x, dims, keepdim, false);
}

Tensor mean(const Tensor& x) {
  CFGAN_CHECK(x.numel() > 0, "mean: tensor of shape ", x.shape().str(), " is empty");
  return reduce_sum_split("mean", x, {1, x.numel(), 1}, Shape{}, 1.0f / static_cast<float>(x.numel()));
}

Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  return reduce_dims("mean", x, dims, keepdim, true);
}

Tensor max(const Tensor& x) { return max_split(x, {1, x.numel(), 1}, Shape{}); }

Tensor max(const Tensor& x, int dim, bool keepdim) {
  dim = normalize_dim(dim, x.ndim(), "max");
  return max_split(x, split_at(x.shape(), dim), reduced_shape(x.shape(), dim, keepdim));
}

}  // namespace cfgan
