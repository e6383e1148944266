// Shape ops: views where free (reshape, dim-0 narrow), copies otherwise.
#include <algorithm>
#include <array>
#include <string>

#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

// x placed at [start, start + x.dim(dim)) of `dim` in zeros of `shape`: narrow's adjoint,
// made of concat so that it records.
Tensor pad_to(const Tensor& x, const Shape& shape, int dim, int64_t start) {
  std::vector<Tensor> pieces;
  Shape before = shape, after = shape;
  before[dim] = start;
  after[dim] = shape[dim] - start - x.dim(dim);
  if (before[dim] > 0) pieces.push_back(Tensor::zeros(before, x.device()));
  pieces.push_back(x);
  if (after[dim] > 0) pieces.push_back(Tensor::zeros(after, x.device()));
  return pieces.size() == 1 ? x : concat(pieces, dim);
}

// x's layout viewed through `dims`-permuted axes.
StridedGeom permuted_geom(const Shape& shape, const std::array<int, kMaxDims>& dims) {
  const Shape strides = shape.strides();
  StridedGeom g{};
  g.ndim = shape.ndim();
  for (int i = 0; i < g.ndim; ++i) {
    g.shape[i] = shape[dims[i]];
    g.stride[i] = strides[dims[i]];
  }
  return g;
}

// The sub-block [start, start+length) of `dim` inside a contiguous `shape`.
StridedGeom narrowed_geom(const Shape& shape, int dim, int64_t start, int64_t length) {
  const Shape strides = shape.strides();
  StridedGeom g{};
  g.ndim = shape.ndim();
  for (int i = 0; i < g.ndim; ++i) {
    g.shape[i] = i == dim ? length : shape[i];
    g.stride[i] = strides[i];
  }
  g.offset = start * strides[dim];
  return g;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  CFGAN_CHECK(shape.numel() == x.numel(), "reshape: cannot reshape ", x.shape().str(), " (", x.numel(),
              " elements) into ", shape.str());
  Tensor out = x.view_as(shape);
  record(out, "reshape", {x}, [in_shape = x.shape()](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) return grads.add(0, reshape(gout, in_shape));
    write_or_accumulate(grads.target(0), gout);
  });
  return out;
}

Tensor reshape(const Tensor& x, std::initializer_list<int64_t> extents) {
  auto spelled = [&] {
    std::string text = "[";
    for (int64_t e : extents) text += (text.size() > 1 ? ", " : "") + std::to_string(e);
    return text + "]";
  };
  const int64_t* inferred = nullptr;
  int64_t known = 1;
  for (const int64_t& e : extents) {
    if (e != -1) {
      known *= e;
      continue;
    }
    CFGAN_CHECK(!inferred, "reshape: more than one -1 in ", spelled());
    inferred = &e;
  }
  CFGAN_CHECK(!inferred || (known > 0 && x.numel() % known == 0), "reshape: cannot reshape ", x.shape().str(), " (",
              x.numel(), " elements) into ", spelled());
  Shape resolved;
  for (const int64_t& e : extents) resolved.push_back(&e == inferred ? x.numel() / known : e);
  return reshape(x, resolved);
}

Tensor flatten(const Tensor& x, int start_dim) {
  start_dim = normalize_dim(start_dim, std::max(x.ndim(), 1), "flatten");
  Shape shape;
  for (int i = 0; i < start_dim; ++i) shape.push_back(x.shape()[i]);
  shape.push_back(extent_product(x.shape(), start_dim, x.ndim()));
  return reshape(x, shape);
}

Tensor permute_dims(const Tensor& x, std::span<const int> dims) {
  CFGAN_CHECK(static_cast<int>(dims.size()) == x.ndim(), "permute: ", dims.size(), " dims given for a tensor of shape ",
              x.shape().str());
  std::array<int, kMaxDims> normalized{};
  std::array<bool, kMaxDims> used{};
  for (size_t i = 0; i < dims.size(); ++i) {
    normalized[i] = normalize_dim(dims[i], x.ndim(), "permute");
    CFGAN_CHECK(!used[normalized[i]], "permute: dim ", dims[i], " appears twice");
    used[normalized[i]] = true;
  }
  const StridedGeom g = permuted_geom(x.shape(), normalized);
  Tensor out = Tensor::empty(Shape(std::span<const int64_t>(g.shape, g.ndim)), x.device());
  kern(x).strided_copy(out.data(), x.data(), g);
  std::array<int, kMaxDims> inverse{};
  for (int i = 0; i < g.ndim; ++i) inverse[normalized[i]] = i;
  record(out, "permute", {x}, [g, inverse](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) return grads.add(0, permute_dims(gout, std::span(inverse.data(), g.ndim)));
    kern(gout).strided_accumulate(grads.grad(0).data(), gout.data(), g);
  });
  return out;
}

Tensor permute(const Tensor& x, const std::vector<int>& dims) { return permute_dims(x, dims); }

Tensor transpose(const Tensor& x, int dim0, int dim1) {
  std::array<int, kMaxDims> dims{};
  for (int i = 0; i < x.ndim(); ++i) dims[i] = i;
  std::swap(dims[normalize_dim(dim0, x.ndim(), "transpose")], dims[normalize_dim(dim1, x.ndim(), "transpose")]);
  return permute_dims(x, std::span(dims.data(), x.ndim()));
}

Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length) {
  dim = normalize_dim(dim, x.ndim(), "narrow");
  CFGAN_CHECK(start >= 0 && length >= 0 && start + length <= x.dim(dim), "narrow: [", start, ", ", start + length,
              ") is out of range for dim ", dim, " of shape ", x.shape().str());
  const Shape in_shape = x.shape();
  if (dim == 0) {
    Tensor out = x.outer_slice(start, length);
    const int64_t row = x.numel() / std::max<int64_t>(x.dim(0), 1);
    record(out, "narrow", {x}, [start, row, in_shape](const Tensor& gout, GradSink& grads) {
      if (grads.create_graph()) return grads.add(0, pad_to(gout, in_shape, 0, start));
      kern(gout).axpy(grads.grad(0).data() + start * row, 1.0f, gout.data(), gout.numel());
    });
    return out;
  }
  const StridedGeom g = narrowed_geom(x.shape(), dim, start, length);
  Tensor out = Tensor::empty(Shape(std::span<const int64_t>(g.shape, g.ndim)), x.device());
  kern(x).strided_copy(out.data(), x.data(), g);
  record(out, "narrow", {x}, [g, in_shape, dim, start](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) return grads.add(0, pad_to(gout, in_shape, dim, start));
    kern(gout).strided_accumulate(grads.grad(0).data(), gout.data(), g);
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int dim) {
  CFGAN_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs[0];
  dim = normalize_dim(dim, first.ndim(), "concat");
  Shape shape = first.shape();
  shape[dim] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_same_device("concat", {{"tensor 0", &first}, {"another tensor", &xs[i]}});
    CFGAN_CHECK(xs[i].ndim() == first.ndim(), "concat: tensor ", i, " has shape ", xs[i].shape().str(),
                ", tensor 0 has ", first.shape().str());
    for (int d = 0; d < first.ndim(); ++d) {
      CFGAN_CHECK(d == dim || xs[i].dim(d) == first.dim(d), "concat along dim ", dim, ": tensor ", i, " has shape ",
                  xs[i].shape().str(), ", tensor 0 has ", first.shape().str());
    }
    shape[dim] += xs[i].dim(dim);
  }
  Tensor out = Tensor::zeros(shape, first.device());
  std::vector<StridedGeom> parts;
  int64_t start = 0;
  for (const Tensor& x : xs) {
    parts.push_back(narrowed_geom(shape, dim, start, x.dim(dim)));
    kern(x).strided_accumulate(out.data(), x.data(), parts.back());
    start += x.dim(dim);
  }
  record(out, "concat", xs, [parts, dim](const Tensor& gout, GradSink& grads) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!grads.needs(static_cast<int>(i))) continue;
      if (grads.create_graph()) {
        const StridedGeom& part = parts[i];
        grads.add(static_cast<int>(i), narrow(gout, dim, part.offset / gout.shape().strides()[dim], part.shape[dim]));
        continue;
      }
      const Tensor& g = grads.grad(static_cast<int>(i));
      Tensor piece = Tensor::empty(g.shape(), g.device());
      kern(gout).strided_copy(piece.data(), gout.data(), parts[i]);
      accumulate(g, piece);
    }
  });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int lead = shape.ndim() - x.ndim();
  CFGAN_CHECK(lead >= 0, "broadcast_to: cannot broadcast ", x.shape().str(), " to ", shape.str());
  const Shape strides = x.shape().strides();
  StridedGeom g{};
  g.ndim = shape.ndim();
  for (int i = 0; i < shape.ndim(); ++i) {
    const int j = i - lead;
    CFGAN_CHECK(j < 0 || x.dim(j) == shape[i] || x.dim(j) == 1, "broadcast_to: cannot broadcast ", x.shape().str(),
                " to ", shape.str());
    g.shape[i] = shape[i];
    g.stride[i] = (j < 0 || x.dim(j) == 1) ? 0 : strides[j];
  }
  Tensor out = Tensor::empty(shape, x.device());
  kern(x).strided_copy(out.data(), x.data(), g);
  record(out, "broadcast_to", {x},
         [in_shape = x.shape()](const Tensor& gout, GradSink& grads) { grads.add(0, sum_to(gout, in_shape)); });
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int lead = x.ndim() - shape.ndim();
  CFGAN_CHECK(lead >= 0, "sum_to: cannot sum ", x.shape().str(), " down to ", shape.str());
  std::array<int, kMaxDims> dims{};
  int count = 0;
  for (int i = 0; i < x.ndim(); ++i) {
    const int j = i - lead;
    if (j < 0 || (shape[j] == 1 && x.dim(i) != 1)) {
      dims[count++] = i;
    } else {
      CFGAN_CHECK(shape[j] == x.dim(i), "sum_to: cannot sum ", x.shape().str(), " down to ", shape.str());
    }
  }
  return reshape(reduce_dims("sum", x, std::span(dims.data(), count), true, false), shape);
}

}  // namespace cfgan
