// softmax and log_softmax over one dim: the middle axis of an (outer, r, inner) view.
#include <array>

#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

Tensor softmax_impl(const char* name, const Tensor& x, int dim, bool log) {
  dim = normalize_dim(dim, x.ndim(), name);
  const Split sp = split_at(x.shape(), dim);
  Tensor out = Tensor::empty(x.shape(), x.device());
  kern(x).softmax_forward(out.data(), x.data(), sp.outer, sp.r, sp.inner, log);
  record(out, name, {x}, [x, dim, sp, log, y = out.detach()](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {  // the output recomputed from x, so that it records
      const std::array<int, 1> along{dim};
      if (log) return grads.add(0, gout - exp(log_softmax(x, dim)) * reduce_dims("sum", gout, along, true, false));
      const Tensor s = softmax(x, dim);
      return grads.add(0, s * (gout - reduce_dims("sum", gout * s, along, true, false)));
    }
    kern(gout).softmax_backward(grads.grad(0).data(), gout.data(), y.data(), sp.outer, sp.r, sp.inner, log);
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, int dim) { return softmax_impl("log_softmax", x, dim, true); }

}  // namespace cfgan
