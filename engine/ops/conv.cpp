// conv2d and conv_transpose2d. A transposed convolution is the input-gradient of the
// convolution that maps its output back to its input, so both ops share the three
// conv kernels with the roles of input and output swapped.
#include <array>

#include "engine/matmul_precision.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

Tensor workspace(const ConvGeom& g, Device d) {
  return Tensor::empty(Shape{kernels_for(d).conv_workspace_floats(g)}, d);
}

void check_conv_args(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t channels_in,
                     int64_t bias_size, const Conv2dOptions& opt) {
  check_same_device(op, {{"input", &x}, {"weight", &weight}, {"bias", &bias}});
  CFGAN_CHECK(x.ndim() == 4, op, ": input must be (N,C,H,W), got ", x.shape().str());
  CFGAN_CHECK(weight.ndim() == 4, op, ": weight must be 4-D, got ", weight.shape().str());
  CFGAN_CHECK(x.dim(1) == channels_in, op, ": input ", x.shape().str(), " has ", x.dim(1), " channels, weight ",
              weight.shape().str(), " expects ", channels_in);
  CFGAN_CHECK(opt.stride >= 1 && opt.padding >= 0, op, ": stride must be >= 1 and padding >= 0, got stride ",
              opt.stride, " padding ", opt.padding);
  if (bias.defined()) {
    CFGAN_CHECK(bias.ndim() == 1 && bias.dim(0) == bias_size, op, ": bias ", bias.shape().str(),
                " does not match weight ", weight.shape().str(), " (expected [", bias_size, "])");
  }
}

// The three products of one convolution geometry, each the adjoint of the others in one
// argument, so each one's backward is made of the other two and gradients of any order
// exist (create_graph walks use them for conv2d and conv_transpose2d):
//   conv_product(x, w)           x (N,C,H,W), w (K,C,R,S)  -> (N,K,P,Q)
//   conv_input_product(gy, w)    gy (N,K,P,Q), w           -> (N,C,H,W)  (d conv / dx)
//   conv_weight_product(gy, x)   gy, x                      -> (K,C,R,S)  (d conv / dw)
// <G, input_product(gy, w)> = <gy, conv(G, w)> = <w, weight_product(gy, G)>, and
// <G, weight_product(gy, x)> = <gy, conv(x, G)> = <x, input_product(gy, G)>.
Tensor conv_input_product(const Tensor& gy, const Tensor& w, const ConvGeom& g);
Tensor conv_weight_product(const Tensor& gy, const Tensor& x, const ConvGeom& g);

Tensor conv_product(const Tensor& x, const Tensor& w, const ConvGeom& g) {
  Tensor out = Tensor::empty(Shape{g.n, g.k, g.p, g.q}, x.device());
  kern(x).conv2d_forward(out.data(), x.data(), w.data(), g, workspace(g, x.device()).data());
  record(out, "conv_product", {x, w}, [x, w, g](const Tensor& gout, GradSink& grads) {
    if (grads.needs(0)) grads.add(0, conv_input_product(gout, w, g));
    if (grads.needs(1)) grads.add(1, conv_weight_product(gout, x, g));
  });
  return out;
}

Tensor conv_input_product(const Tensor& gy, const Tensor& w, const ConvGeom& g) {
  Tensor out = Tensor::empty(Shape{g.n, g.c, g.h, g.w}, gy.device());
  kern(gy).conv2d_backward_input(out.data(), gy.data(), w.data(), g, workspace(g, gy.device()).data(), false);
  record(out, "conv_input_product", {gy, w}, [gy, w, g](const Tensor& gout, GradSink& grads) {
    if (grads.needs(0)) grads.add(0, conv_product(gout, w, g));
    if (grads.needs(1)) grads.add(1, conv_weight_product(gy, gout, g));
  });
  return out;
}

Tensor conv_weight_product(const Tensor& gy, const Tensor& x, const ConvGeom& g) {
  Tensor out = Tensor::empty(Shape{g.k, g.c, g.r, g.s}, gy.device());
  kern(gy).conv2d_backward_weight(out.data(), gy.data(), x.data(), g, workspace(g, gy.device()).data(), false);
  record(out, "conv_weight_product", {gy, x}, [gy, x, g](const Tensor& gout, GradSink& grads) {
    if (grads.needs(0)) grads.add(0, conv_product(x, gout, g));
    if (grads.needs(1)) grads.add(1, conv_input_product(gy, gout, g));
  });
  return out;
}

// The per-channel sum of an (N,C,H,W) gradient: a bias's gradient, with recorded ops.
Tensor channel_sum(const Tensor& g) { return reduce_dims("sum", g, std::array{0, 2, 3}, false, false); }

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions opt) {
  check_conv_args("conv2d", x, weight, bias, weight.ndim() == 4 ? weight.dim(1) : -1,
                  weight.ndim() == 4 ? weight.dim(0) : -1, opt);
  ConvGeom g{};
  g.precision = matmul_precision();
  g.n = x.dim(0), g.c = x.dim(1), g.h = x.dim(2), g.w = x.dim(3);
  g.k = weight.dim(0), g.r = weight.dim(2), g.s = weight.dim(3);
  g.stride_h = g.stride_w = opt.stride;
  g.pad_h = g.pad_w = opt.padding;
  CFGAN_CHECK(g.h + 2 * g.pad_h >= g.r && g.w + 2 * g.pad_w >= g.s, "conv2d: kernel ", g.r, "x", g.s,
              " is larger than the padded input ", x.shape().str());
  g.p = (g.h + 2 * g.pad_h - g.r) / g.stride_h + 1;
  g.q = (g.w + 2 * g.pad_w - g.s) / g.stride_w + 1;
  Tensor out = Tensor::empty(Shape{g.n, g.k, g.p, g.q}, x.device());
  const Kernels& k = kern(x);
  k.conv2d_forward(out.data(), x.data(), weight.data(), g, workspace(g, x.device()).data());
  if (bias.defined()) k.bias_add(out.data(), bias.data(), g.n, g.k, g.p * g.q);
  record(out, "conv2d", {x, weight, bias}, [x, weight, g](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {
      if (grads.needs(0)) grads.add(0, conv_input_product(gout, weight, g));
      if (grads.needs(1)) grads.add(1, conv_weight_product(gout, x, g));
      if (grads.needs(2)) grads.add(2, channel_sum(gout));
      return;
    }
    const Kernels& k = kern(gout);
    Tensor ws = workspace(g, gout.device());
    if (grads.needs(0)) {
      const GradTarget dx = grads.target(0);
      k.conv2d_backward_input(dx.grad.data(), gout.data(), weight.data(), g, ws.data(), !dx.fresh);
    }
    if (grads.needs(1)) {
      const GradTarget dw = grads.target(1);
      k.conv2d_backward_weight(dw.grad.data(), gout.data(), x.data(), g, ws.data(), !dw.fresh);
    }
    if (grads.needs(2))
      k.bias_backward(grads.grad(2).data(), gout.data(), g.n, g.k, g.p * g.q,
                      workspace_of(scratch(k.bias_backward_workspace_bytes(g.n, g.k, g.p * g.q), gout.device())));
  });
  return out;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions opt) {
  check_conv_args("conv_transpose2d", x, weight, bias, weight.ndim() == 4 ? weight.dim(0) : -1,
                  weight.ndim() == 4 ? weight.dim(1) : -1, opt);
  CFGAN_CHECK(opt.output_padding >= 0 && opt.output_padding < opt.stride,
              "conv_transpose2d: output_padding must be in [0, stride), got ", opt.output_padding);
  // The equivalent convolution maps out (N, Cout, Ho, Wo) to x (N, Cin, H, W) with weight (Cin, Cout, R, S).
  ConvGeom g{};
  g.precision = matmul_precision();
  g.n = x.dim(0), g.k = x.dim(1), g.p = x.dim(2), g.q = x.dim(3);
  g.c = weight.dim(1), g.r = weight.dim(2), g.s = weight.dim(3);
  g.stride_h = g.stride_w = opt.stride;
  g.pad_h = g.pad_w = opt.padding;
  g.h = (g.p - 1) * opt.stride - 2 * opt.padding + g.r + opt.output_padding;
  g.w = (g.q - 1) * opt.stride - 2 * opt.padding + g.s + opt.output_padding;
  CFGAN_CHECK(g.h > 0 && g.w > 0, "conv_transpose2d: input ", x.shape().str(), " with weight ", weight.shape().str(),
              " gives an empty output");
  Tensor out = Tensor::empty(Shape{g.n, g.c, g.h, g.w}, x.device());
  const Kernels& k = kern(x);
  k.conv2d_backward_input(out.data(), x.data(), weight.data(), g, workspace(g, x.device()).data(), false);
  if (bias.defined()) k.bias_add(out.data(), bias.data(), g.n, g.c, g.h * g.w);
  record(out, "conv_transpose2d", {x, weight, bias}, [x, weight, g](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {  // out = conv_input_product(x, weight)
      if (grads.needs(0)) grads.add(0, conv_product(gout, weight, g));
      if (grads.needs(1)) grads.add(1, conv_weight_product(x, gout, g));
      if (grads.needs(2)) grads.add(2, channel_sum(gout));
      return;
    }
    const Kernels& k = kern(gout);
    Tensor ws = workspace(g, gout.device());
    if (grads.needs(0)) {  // forward conv of the output gradient: written into a fresh dx, else added
      const GradTarget dx = grads.target(0);
      if (dx.fresh) {
        k.conv2d_forward(dx.grad.data(), gout.data(), weight.data(), g, ws.data());
      } else {
        Tensor part = Tensor::empty(x.shape(), x.device());
        k.conv2d_forward(part.data(), gout.data(), weight.data(), g, ws.data());
        accumulate(dx.grad, part);
      }
    }
    if (grads.needs(1)) {
      const GradTarget dw = grads.target(1);
      k.conv2d_backward_weight(dw.grad.data(), x.data(), gout.data(), g, ws.data(), !dw.fresh);
    }
    if (grads.needs(2))
      k.bias_backward(grads.grad(2).data(), gout.data(), g.n, g.c, g.h * g.w,
                      workspace_of(scratch(k.bias_backward_workspace_bytes(g.n, g.c, g.h * g.w), gout.device())));
  });
  return out;
}

}  // namespace cfgan
