// Indexing ops: index_select along any dim, and embedding (rows of a table).
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {

Tensor index_select(const Tensor& x, int dim, const std::vector<int32_t>& indices) {
  dim = normalize_dim(dim, x.ndim(), "index_select");
  const int64_t size = x.dim(dim);
  for (size_t i = 0; i < indices.size(); ++i) {
    CFGAN_CHECK(indices[i] >= 0 && indices[i] < size, "index_select: index ", indices[i], " (position ", i,
                ") is out of range for dim ", dim, " of shape ", x.shape().str());
  }
  const int64_t outer = extent_product(x.shape(), 0, dim), inner = extent_product(x.shape(), dim + 1, x.ndim());
  const int64_t n = static_cast<int64_t>(indices.size());
  Shape shape = x.shape();
  shape[dim] = n;
  Tensor out = Tensor::empty(shape, x.device());
  auto idx = upload_indices(indices, x.device());
  kern(x).index_select_forward(out.data(), x.data(), ints(idx), n, outer, size, inner);
  record(out, "index_select", {x}, [idx, n, outer, size, inner](const Tensor& gout, GradSink& grads) {
    kern(gout).index_select_backward(grads.grad(0).data(), gout.data(), ints(idx), n, outer, size, inner);
  });
  return out;
}

Tensor embedding(const Tensor& weight, const std::vector<int32_t>& indices) {
  CFGAN_CHECK(weight.ndim() == 2, "embedding: weight must be (num_embeddings, dim), got ", weight.shape().str());
  return index_select(weight, 0, indices);
}

}  // namespace cfgan
