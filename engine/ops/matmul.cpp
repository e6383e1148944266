// Matrix products: matmul (2-D and batched) and linear. Backward passes are GEMMs with
// beta = 1, accumulating straight into the gradient buffers.
#include <array>

#include "engine/matmul_precision.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

// C (M,N) [+]= op(A) op(B) for row-major A, B, C with natural leading dimensions.
void gemm_into(const Tensor& c_owner, float* c, const float* a, const float* b, int64_t m, int64_t n, int64_t k,
               bool trans_a, bool trans_b, float beta, MatmulPrecision precision, int64_t batch = 1) {
  GemmArgs g;
  g.trans_a = trans_a, g.trans_b = trans_b;
  g.m = m, g.n = n, g.k = k;
  g.a = a, g.lda = trans_a ? m : k;
  g.b = b, g.ldb = trans_b ? k : n;
  g.c = c, g.ldc = n;
  g.beta = beta;
  g.batch = batch, g.stride_a = m * k, g.stride_b = k * n, g.stride_c = m * n;
  g.precision = precision;
  kern(c_owner).gemm(g);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_device("matmul", {{"a", &a}, {"b", &b}});
  const bool batched_b = b.ndim() == 3;
  CFGAN_CHECK((a.ndim() == 2 && b.ndim() == 2) || (a.ndim() == 3 && (b.ndim() == 2 || b.ndim() == 3)),
              "matmul: expected (M,K)x(K,N), (B,M,K)x(B,K,N) or (B,M,K)x(K,N), got ", a.shape().str(), " x ",
              b.shape().str());
  const int64_t k = a.dim(-1), n = b.dim(-1);
  CFGAN_CHECK(b.dim(-2) == k, "matmul: inner dimensions differ: ", a.shape().str(), " x ", b.shape().str());
  if (batched_b) {
    CFGAN_CHECK(a.dim(0) == b.dim(0), "matmul: batch sizes differ: ", a.shape().str(), " x ", b.shape().str());
  }
  // Without a batched B, a (B,M,K) input is one (B*M, K) matrix.
  const int64_t batch = batched_b ? a.dim(0) : 1;
  const int64_t m = a.numel() / k / batch;
  Shape shape = a.shape();
  shape[shape.ndim() - 1] = n;
  Tensor out = Tensor::empty(shape, a.device());
  const MatmulPrecision precision = matmul_precision();
  gemm_into(out, out.data(), a.data(), b.data(), m, n, k, false, false, 0.0f, precision, batch);
  record(out, "matmul", {a, b}, [a, b, m, n, k, batch, precision](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {
      if (grads.needs(0)) grads.add(0, matmul(gout, transpose(b, -2, -1)));
      if (grads.needs(1)) {
        grads.add(1, b.ndim() == 3 ? matmul(transpose(a, 1, 2), gout)
                                   : matmul(transpose(reshape(a, Shape{batch * m, k}), 0, 1),
                                            reshape(gout, Shape{batch * m, n})));
      }
      return;
    }
    if (grads.needs(0)) {  // dA (M,K) += dC (M,N) B^T
      const GradTarget da = grads.target(0);
      gemm_into(gout, da.grad.data(), gout.data(), b.data(), m, k, n, false, true, da.beta(), precision, batch);
    }
    if (grads.needs(1)) {  // dB (K,N) += A^T dC
      const GradTarget db = grads.target(1);
      gemm_into(gout, db.grad.data(), a.data(), gout.data(), k, n, m, true, false, db.beta(), precision, batch);
    }
  });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_same_device("linear", {{"input", &x}, {"weight", &weight}, {"bias", &bias}});
  CFGAN_CHECK(weight.ndim() == 2, "linear: weight must be (out, in), got ", weight.shape().str());
  const int64_t in = weight.dim(1), out_features = weight.dim(0);
  CFGAN_CHECK(x.ndim() >= 1 && x.dim(-1) == in, "linear: input ", x.shape().str(), " has ", x.ndim() ? x.dim(-1) : 0,
              " features, weight ", weight.shape().str(), " expects ", in);
  if (bias.defined()) {
    CFGAN_CHECK(bias.ndim() == 1 && bias.dim(0) == out_features, "linear: bias ", bias.shape().str(),
                " does not match weight ", weight.shape().str(), " (expected [", out_features, "])");
  }
  const int64_t rows = x.numel() / in;
  Shape shape = x.shape();
  shape[shape.ndim() - 1] = out_features;
  Tensor out = Tensor::empty(shape, x.device());
  const MatmulPrecision precision = matmul_precision();
  gemm_into(out, out.data(), x.data(), weight.data(), rows, out_features, in, false, true, 0.0f, precision);
  if (bias.defined()) kern(x).bias_add(out.data(), bias.data(), rows, out_features, 1);
  record(out, "linear", {x, weight, bias}, [x, weight, rows, in, out_features, precision](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {
      const Tensor g2 = reshape(gout, Shape{rows, out_features});
      if (grads.needs(0)) grads.add(0, reshape(matmul(g2, weight), x.shape()));
      if (grads.needs(1)) grads.add(1, matmul(transpose(g2, 0, 1), reshape(x, Shape{rows, in})));
      if (grads.needs(2)) grads.add(2, reduce_dims("sum", g2, std::array{0}, false, false));
      return;
    }
    if (grads.needs(0)) {  // dx (rows,in) += dy (rows,out) W (out,in)
      const GradTarget dx = grads.target(0);
      gemm_into(gout, dx.grad.data(), gout.data(), weight.data(), rows, in, out_features, false, false, dx.beta(),
                precision);
    }
    if (grads.needs(1)) {  // dW (out,in) += dy^T x
      const GradTarget dw = grads.target(1);
      gemm_into(gout, dw.grad.data(), gout.data(), x.data(), out_features, in, rows, true, false, dw.beta(),
                precision);
    }
    if (grads.needs(2)) {
      const Kernels& k = kern(gout);
      k.bias_backward(grads.grad(2).data(), gout.data(), rows, out_features, 1,
                      workspace_of(scratch(k.bias_backward_workspace_bytes(rows, out_features, 1), gout.device())));
    }
  });
  return out;
}

}  // namespace cfgan
