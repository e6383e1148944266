// Elementwise ops: broadcasting binary ops, unary ops and scalar affine maps.
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

// NumPy broadcasting: align trailing dims; extents must match or be 1.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  const int nd = std::max(a.ndim(), b.ndim());
  Shape out;
  for (int i = 0; i < nd; ++i) {
    const int ia = i - (nd - a.ndim()), ib = i - (nd - b.ndim());
    const int64_t ea = ia >= 0 ? a[ia] : 1, eb = ib >= 0 ? b[ib] : 1;
    CFGAN_CHECK(ea == eb || ea == 1 || eb == 1, op, ": shapes ", a.str(), " and ", b.str(),
                " cannot be broadcast together (dim ", i, ": ", ea, " vs ", eb, ")");
    out.push_back(ea == 1 ? eb : ea);
  }
  return out;
}

// Strides of `in` read as `out`-shaped, 0 on broadcast dims.
void broadcast_strides(const Shape& in, const Shape& out, int64_t* stride) {
  const Shape contiguous = in.strides();
  const int lead = out.ndim() - in.ndim();
  for (int i = 0; i < out.ndim(); ++i) {
    const int j = i - lead;
    stride[i] = (j < 0 || in[j] == 1) ? 0 : contiguous[j];
  }
}

Tensor binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_device(name, {{"a", &a}, {"b", &b}});
  const Shape shape = broadcast_shape(name, a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, a.device());
  BroadcastGeom g{};
  g.ndim = shape.ndim();
  for (int i = 0; i < shape.ndim(); ++i) g.out_shape[i] = shape[i];
  broadcast_strides(a.shape(), shape, g.a_stride);
  broadcast_strides(b.shape(), shape, g.b_stride);
  kern(a).binary_forward(op, out.data(), a.data(), b.data(), g);
  record(out, name, {a, b}, [op, a, b](const Tensor& gout, GradSink& grads) {
    // d(a op b): add (1, 1), sub (1, -1), mul (b, a), div (1/b, -a/b^2); summed over broadcast dims.
    // Written with the public ops, so a create_graph walk records it as it stands.
    auto send = [&](int i, const Tensor& full_grad) { grads.add(i, sum_to(full_grad, (i == 0 ? a : b).shape())); };
    switch (op) {
      case BinaryOp::add:
        if (grads.needs(0)) send(0, gout);
        if (grads.needs(1)) send(1, gout);
        break;
      case BinaryOp::sub:
        if (grads.needs(0)) send(0, gout);
        if (grads.needs(1)) send(1, neg(gout));
        break;
      case BinaryOp::mul:
        if (grads.needs(0)) send(0, gout * b);
        if (grads.needs(1)) send(1, gout * a);
        break;
      case BinaryOp::div:
        if (grads.needs(0)) send(0, gout / b);
        if (grads.needs(1)) send(1, neg(gout * a / square(b)));
        break;
    }
  });
  return out;
}

// d op(x) / dx at x, for the ops that are linear between kinks (abs, relu, leaky_relu,
// clamp): a constant of the graph, since their second derivative is zero wherever the
// first one exists.
Tensor piecewise_slope(UnaryOp op, float alpha, float beta, const Tensor& x) {
  Tensor slope = Tensor::empty(x.shape(), x.device());
  const Tensor ones = Tensor::ones(x.shape(), x.device());
  kern(x).unary_backward(op, alpha, beta, slope.data(), ones.data(), x.data(), nullptr, x.numel(), false);
  return slope;
}

// gout * d op(x) / dx written with the public ops, for a backward that records its graph
// (the output is recomputed from x: the forward's output is not a function of x on the tape).
Tensor unary_gradient(UnaryOp op, float alpha, float beta, const Tensor& x, const Tensor& gout) {
  switch (op) {
    case UnaryOp::neg:
      return neg(gout);
    case UnaryOp::exp:
      return gout * exp(x);
    case UnaryOp::log:
      return gout / x;
    case UnaryOp::sqrt:
      return gout / sqrt(x) * 0.5f;
    case UnaryOp::tanh:
      return gout * (1.0f - square(tanh(x)));
    case UnaryOp::sigmoid: {
      const Tensor s = sigmoid(x);
      return gout * s * (1.0f - s);
    }
    case UnaryOp::softplus:
      return gout * sigmoid(x);
    case UnaryOp::pow:
      return gout * pow(x, alpha - 1.0f) * alpha;
    case UnaryOp::affine:
      return gout * alpha;
    case UnaryOp::square:
      return gout * x * 2.0f;
    case UnaryOp::abs:
    case UnaryOp::relu:
    case UnaryOp::leaky_relu:
    case UnaryOp::clamp:
      return gout * piecewise_slope(op, alpha, beta, x);
  }
  fail("unary_gradient: unknown op");
}

Tensor unary(const char* name, UnaryOp op, const Tensor& x, float alpha = 0.0f, float beta = 0.0f) {
  Tensor out = Tensor::empty(x.shape(), x.device());
  kern(x).unary_forward(op, alpha, beta, out.data(), x.data(), x.numel());
  record(out, name, {x}, [op, alpha, beta, x, y = out.detach()](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) return grads.add(0, unary_gradient(op, alpha, beta, x, gout));
    const GradTarget dx = grads.target(0);
    kern(x).unary_backward(op, alpha, beta, dx.grad.data(), gout.data(), x.data(), y.data(), x.numel(), !dx.fresh);
  });
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary("add", BinaryOp::add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary("sub", BinaryOp::sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary("mul", BinaryOp::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary("div", BinaryOp::div, a, b); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }

Tensor affine(const Tensor& x, float scale, float shift) { return unary("affine", UnaryOp::affine, x, scale, shift); }
Tensor operator+(const Tensor& x, float s) { return affine(x, 1.0f, s); }
Tensor operator+(float s, const Tensor& x) { return affine(x, 1.0f, s); }
Tensor operator-(const Tensor& x, float s) { return affine(x, 1.0f, -s); }
Tensor operator-(float s, const Tensor& x) { return affine(x, -1.0f, s); }
Tensor operator*(const Tensor& x, float s) { return affine(x, s, 0.0f); }
Tensor operator*(float s, const Tensor& x) { return affine(x, s, 0.0f); }
Tensor operator/(const Tensor& x, float s) { return affine(x, 1.0f / s, 0.0f); }
Tensor operator-(const Tensor& x) { return neg(x); }

Tensor neg(const Tensor& x) { return unary("neg", UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return unary("exp", UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return unary("log", UnaryOp::log, x); }
Tensor sqrt(const Tensor& x) { return unary("sqrt", UnaryOp::sqrt, x); }
Tensor abs(const Tensor& x) { return unary("abs", UnaryOp::abs, x); }
Tensor square(const Tensor& x) { return unary("square", UnaryOp::square, x); }
Tensor pow(const Tensor& x, float exponent) { return unary("pow", UnaryOp::pow, x, exponent); }
Tensor clamp(const Tensor& x, float lo, float hi) {
  CFGAN_CHECK(lo <= hi, "clamp: lower bound ", lo, " is above upper bound ", hi);
  return unary("clamp", UnaryOp::clamp, x, lo, hi);
}
Tensor relu(const Tensor& x) { return unary("relu", UnaryOp::relu, x); }
Tensor leaky_relu(const Tensor& x, float negative_slope) {
  return unary("leaky_relu", UnaryOp::leaky_relu, x, negative_slope);
}
Tensor tanh(const Tensor& x) { return unary("tanh", UnaryOp::tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary("sigmoid", UnaryOp::sigmoid, x); }
Tensor softplus(const Tensor& x) { return unary("softplus", UnaryOp::softplus, x); }

}  // namespace cfgan
