#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

PoolGeom pool_geom(const char* op, const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  CFGAN_CHECK(x.ndim() == 4, op, ": input must be (N,C,H,W), got ", x.shape().str());
  if (stride == 0) stride = kernel;
  CFGAN_CHECK(kernel >= 1 && stride >= 1 && padding >= 0 && 2 * padding <= kernel, op, ": kernel ", kernel,
              ", stride ", stride, ", padding ", padding, " are invalid (padding must be at most half the kernel)");
  PoolGeom g{};
  g.planes = x.dim(0) * x.dim(1), g.h = x.dim(2), g.w = x.dim(3);
  g.kernel_h = g.kernel_w = kernel;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = padding;
  CFGAN_CHECK(g.h + 2 * padding >= kernel && g.w + 2 * padding >= kernel, op, ": kernel ", kernel,
              " is larger than the padded input ", x.shape().str());
  g.p = (g.h + 2 * padding - kernel) / stride + 1;
  g.q = (g.w + 2 * padding - kernel) / stride + 1;
  return g;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const PoolGeom g = pool_geom("max_pool2d", x, kernel, stride, padding);
  Tensor out = Tensor::empty(Shape{x.dim(0), x.dim(1), g.p, g.q}, x.device());
  auto argmax = Storage::make(sizeof(int32_t) * std::max<int64_t>(out.numel(), 1), x.device());
  kern(x).max_pool2d_forward(out.data(), ints_mut(argmax), x.data(), g);
  record(out, "max_pool2d", {x}, [g, argmax](const Tensor& gout, GradSink& grads) {
    kern(gout).max_pool2d_backward(grads.grad(0).data(), gout.data(), ints(argmax), g);
  });
  return out;
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const PoolGeom g = pool_geom("avg_pool2d", x, kernel, stride, padding);
  Tensor out = Tensor::empty(Shape{x.dim(0), x.dim(1), g.p, g.q}, x.device());
  kern(x).avg_pool2d_forward(out.data(), x.data(), g);
  record(out, "avg_pool2d", {x}, [g](const Tensor& gout, GradSink& grads) {
    kern(gout).avg_pool2d_backward(grads.grad(0).data(), gout.data(), g);
  });
  return out;
}

Tensor upsample_nearest2d(const Tensor& x, int64_t scale) {
  CFGAN_CHECK(x.ndim() == 4, "upsample_nearest2d: input must be (N,C,H,W), got ", x.shape().str());
  CFGAN_CHECK(scale >= 1, "upsample_nearest2d: scale must be >= 1, got ", scale);
  const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
  Tensor out = Tensor::empty(Shape{x.dim(0), x.dim(1), h * scale, w * scale}, x.device());
  kern(x).upsample_nearest2d_forward(out.data(), x.data(), planes, h, w, scale);
  record(out, "upsample_nearest2d", {x}, [planes, h, w, scale](const Tensor& gout, GradSink& grads) {
    kern(gout).upsample_nearest2d_backward(grads.grad(0).data(), gout.data(), planes, h, w, scale);
  });
  return out;
}

}  // namespace cfgan
