// The contract between the engine and a backend: every kernel the engine calls,
// as one table of plain functions over raw pointers. Each backend (cpu, cuda,
// emulated cuda) fills one table; the engine picks the table by a tensor's device.
//
// Conventions (the same on every backend):
// - all pointers are the backend's memory; float32, contiguous, row-major / NCHW;
// - `*_forward` kernels overwrite their outputs;
// - `*_backward` kernels ACCUMULATE (+=) into their input-gradient outputs, so a
//   tensor used twice collects both contributions;
// - kernels never allocate: scratch space comes from the caller (see *_workspace).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cfgan {

enum class UnaryOp : uint8_t {
  neg, exp, log, sqrt, abs, relu, leaky_relu, tanh, sigmoid, softplus,
  pow,     // x^alpha
  clamp,   // min(max(x, alpha), beta)
  affine,  // alpha * x + beta (scalar add / mul / sub / rsub)
  square,
};

enum class BinaryOp : uint8_t { add, sub, mul, div };

constexpr int kMaxDims = 8;

// Broadcasting binary op over an output of `ndim` dims; a_stride / b_stride are
// element strides with 0 on broadcast dimensions.
struct BroadcastGeom {
  int ndim;
  int64_t out_shape[kMaxDims];
  int64_t a_stride[kMaxDims];
  int64_t b_stride[kMaxDims];
};

// A strided view of `src`: element (i0..i{n-1}) of the contiguous `shape` lives at
// src[offset + sum_d i_d * stride[d]]. Covers permute, narrow and broadcast-expand.
struct StridedGeom {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t stride[kMaxDims];
  int64_t offset;
};

// C[M,N] = alpha * op(A) op(B) + beta * C, row-major. op(A) is (M,K): A is (M,K) with
// row stride lda, or (K,M) when trans_a. op(B) is (K,N) likewise. beta == 0 means C is
// written without being read. Batched: A, B, C advance by stride_a/b/c per batch.
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int64_t ldc = 0;
  int64_t batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
};

// 2-D convolution geometry: input (N,C,H,W), weight (K,C,R,S), output (N,K,P,Q).
struct ConvGeom {
  int64_t n, c, h, w;      // input
  int64_t k, r, s;         // output channels, kernel height, kernel width
  int64_t stride_h, stride_w, pad_h, pad_w;
  int64_t p, q;            // output height, width
};

// 2-D pooling geometry over planes = N*C: input (planes,H,W), output (planes,P,Q).
struct PoolGeom {
  int64_t planes, h, w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  int64_t p, q;
};

struct Kernels {
  const char* name;

  // ---- memory (bytes) ----
  void* (*alloc)(size_t bytes);  // nullptr when out of memory
  void (*release)(void* p);
  void (*copy_from_host)(void* dst, const void* src, size_t bytes);
  void (*copy_to_host)(void* dst, const void* src, size_t bytes);
  void (*copy)(void* dst, const void* src, size_t bytes);
  void (*synchronize)();

  // ---- elementwise ----
  void (*fill)(float* out, float value, int64_t n);
  // out (n) = op(in)
  void (*unary_forward)(UnaryOp op, float alpha, float beta, float* out, const float* in, int64_t n);
  // din += dout * op'(in); `out` is op(in) (some ops use it instead of `in`)
  void (*unary_backward)(UnaryOp op, float alpha, float beta, float* din, const float* dout,
                         const float* in, const float* out, int64_t n);
  void (*binary_forward)(BinaryOp op, float* out, const float* a, const float* b, const BroadcastGeom& g);
  // y += alpha * x
  void (*axpy)(float* y, float alpha, const float* x, int64_t n);
  // y += a * b (elementwise)
  void (*mul_accumulate)(float* y, const float* a, const float* b, int64_t n);
  // out (contiguous g.shape) = strided view of src
  void (*strided_copy)(float* out, const float* src, const StridedGeom& g);
  // strided view of dst += src (contiguous g.shape); the view must not alias itself
  void (*strided_accumulate)(float* dst, const float* src, const StridedGeom& g);

  // ---- reductions over the middle axis of (outer, r, inner) ----
  // out (outer, inner) = scale * sum_r in
  void (*reduce_sum)(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, float scale);
  // din (outer, r, inner) += scale * dout (outer, inner)
  void (*reduce_sum_backward)(float* din, const float* dout, int64_t outer, int64_t r, int64_t inner,
                              float scale);
  // out (outer, inner) = max_r in; argmax (outer, inner) = index along r (first max)
  void (*reduce_max)(float* out, int32_t* argmax, const float* in, int64_t outer, int64_t r, int64_t inner);
  void (*reduce_max_backward)(float* din, const float* dout, const int32_t* argmax, int64_t outer,
                              int64_t r, int64_t inner);
  // softmax (or log-softmax) along the middle axis
  void (*softmax_forward)(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, bool log);
  // din += softmax'(dout), given out = softmax(in) (or log-softmax)
  void (*softmax_backward)(float* din, const float* dout, const float* out, int64_t outer, int64_t r,
                           int64_t inner, bool log);

  // ---- matrix products ----
  void (*gemm)(const GemmArgs& args);
  // out (outer, C, inner) += bias (C)
  void (*bias_add)(float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner);
  // dbias (C) += sum over outer, inner of dout (outer, C, inner)
  void (*bias_backward)(float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner);

  // ---- convolution (see ConvGeom); workspace holds conv_workspace_floats(g) floats ----
  int64_t (*conv_workspace_floats)(const ConvGeom& g);
  // out (N,K,P,Q) = conv(in, weight); no bias (bias_add does that)
  void (*conv2d_forward)(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace);
  // din (N,C,H,W) += conv2d input gradient of dout (N,K,P,Q)
  void (*conv2d_backward_input)(float* din, const float* dout, const float* weight, const ConvGeom& g,
                                float* workspace);
  // dweight (K,C,R,S) += conv2d weight gradient
  void (*conv2d_backward_weight)(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                                 float* workspace);

  // ---- batch norm over (N, C, HW), statistics per channel ----
  // Training: uses batch statistics, writes save_mean / save_invstd (C) and, when
  // running_mean is non-null, updates the running stats with `momentum` (unbiased var).
  void (*batch_norm_forward_train)(float* out, float* save_mean, float* save_invstd, float* running_mean,
                                   float* running_var, const float* in, const float* gamma, const float* beta,
                                   int64_t n, int64_t c, int64_t hw, float momentum, float eps);
  void (*batch_norm_forward_eval)(float* out, const float* in, const float* running_mean,
                                  const float* running_var, const float* gamma, const float* beta, int64_t n,
                                  int64_t c, int64_t hw, float eps);
  // Training-mode backward; any of din / dgamma / dbeta may be null (not needed).
  void (*batch_norm_backward)(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                              const float* save_mean, const float* save_invstd, const float* gamma, int64_t n,
                              int64_t c, int64_t hw);
  // Eval-mode backward (running stats are constants): din += dout * gamma * invstd
  void (*batch_norm_backward_eval)(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                                   const float* running_mean, const float* running_var, const float* gamma,
                                   int64_t n, int64_t c, int64_t hw, float eps);

  // ---- pooling / resampling ----
  void (*max_pool2d_forward)(float* out, int32_t* argmax, const float* in, const PoolGeom& g);
  void (*max_pool2d_backward)(float* din, const float* dout, const int32_t* argmax, const PoolGeom& g);
  // count_include_pad semantics: every window divides by kernel_h * kernel_w
  void (*avg_pool2d_forward)(float* out, const float* in, const PoolGeom& g);
  void (*avg_pool2d_backward)(float* din, const float* dout, const PoolGeom& g);
  // in (planes, H, W) -> out (planes, H*scale, W*scale)
  void (*upsample_nearest2d_forward)(float* out, const float* in, int64_t planes, int64_t h, int64_t w,
                                     int64_t scale);
  void (*upsample_nearest2d_backward)(float* din, const float* dout, int64_t planes, int64_t h, int64_t w,
                                      int64_t scale);

  // ---- indexing: in viewed as (outer, dim, inner), idx has n_idx entries in [0, dim) ----
  // out (outer, n_idx, inner) = in[:, idx, :]
  void (*index_select_forward)(float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer,
                               int64_t dim, int64_t inner);
  void (*index_select_backward)(float* din, const float* dout, const int32_t* idx, int64_t n_idx,
                                int64_t outer, int64_t dim, int64_t inner);

  // ---- losses (per element / per row; the engine reduces) ----
  // out = max(x,0) - x*t + log(1 + exp(-|x|))
  void (*bce_with_logits_forward)(float* out, const float* logits, const float* target, int64_t n);
  // dlogits += dout * (sigmoid(x) - t); dtarget (nullable) += dout * -x
  void (*bce_with_logits_backward)(float* dlogits, float* dtarget, const float* dout, const float* logits,
                                   const float* target, int64_t n);
  // loss (rows) = logsumexp(logits row) - logits[row, label]
  void (*cross_entropy_forward)(float* loss, const float* logits, const int32_t* labels, int64_t rows,
                                int64_t classes);
  // dlogits += dloss[row] * (softmax(row) - onehot(label))
  void (*cross_entropy_backward)(float* dlogits, const float* dloss, const float* logits, const int32_t* labels,
                                 int64_t rows, int64_t classes);

  // ---- random numbers (Philox-4x32-10, see kernels/philox.h) ----
  // out[i] = lo + (hi - lo) * u_i, u_i in [0, 1) from stream position offset*4 + i
  void (*uniform)(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
  void (*normal)(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);
  // mask[i] = u_i >= p ? 1/(1-p) : 0; out = in * mask
  void (*dropout_forward)(float* out, float* mask, const float* in, int64_t n, float p, uint64_t seed,
                          uint64_t offset);

  // ---- optimizers, in place over n parameters ----
  // bias_correction1/2 = 1 - beta^t; weight_decay is L2 added to the gradient (torch.optim.Adam)
  void (*adam_update)(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, float bias_correction1,
                      float bias_correction2);
  // buf = momentum * buf + (g + wd * p) (buf = g + wd * p on the first step); p -= lr * buf
  void (*sgd_update)(float* param, const float* grad, float* momentum_buf, int64_t n, float lr, float momentum,
                     float weight_decay, bool first_step);
};

// The table of the CPU backend (always present).
const Kernels& cpu_kernels();

}  // namespace cfgan
