// Ops that draw random numbers on the device: dropout (its mask from the Philox stream).
#include "engine/random.h"

#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  CFGAN_CHECK(p >= 0.0f && p < 1.0f, "dropout: probability must be in [0, 1), got ", p);
  if (!training || p == 0.0f) return x;
  Tensor out = Tensor::empty(x.shape(), x.device());
  Tensor mask = Tensor::empty(x.shape(), x.device());
  const uint64_t offset = gen.advance(x.numel());
  kern(x).dropout_forward(out.data(), mask.data(), x.data(), x.numel(), p, gen.seed(), offset);
  record(out, "dropout", {x}, [mask](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) return grads.add(0, gout * mask);
    kern(gout).mul_accumulate(grads.grad(0).data(), gout.data(), mask.data(), gout.numel());
  });
  return out;
}

}  // namespace cfgan
