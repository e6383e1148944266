// The op API: every differentiable operation of the engine. Each op checks shapes
// and devices (errors name the op and the shapes), allocates its output, calls the
// device's kernel and records its backward (engine/ops/*.cpp, forward and backward
// side by side). Inputs on different devices are an error, never a silent copy.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace cfgan {

// ---- elementwise, broadcasting like NumPy ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);

// ---- with a scalar ----
Tensor affine(const Tensor& x, float scale, float shift);  // scale * x + shift
Tensor operator+(const Tensor& x, float s);
Tensor operator+(float s, const Tensor& x);
Tensor operator-(const Tensor& x, float s);
Tensor operator-(float s, const Tensor& x);
Tensor operator*(const Tensor& x, float s);
Tensor operator*(float s, const Tensor& x);
Tensor operator/(const Tensor& x, float s);
Tensor operator-(const Tensor& x);

// ---- unary ----
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor square(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor clamp(const Tensor& x, float lo, float hi);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x);

// ---- matrix products ----
// (M,K) x (K,N) -> (M,N); (B,M,K) x (B,K,N) -> (B,M,N); (B,M,K) x (K,N) -> (B,M,N)
Tensor matmul(const Tensor& a, const Tensor& b);
// x (N, in) or (..., in), weight (out, in), bias (out) or undefined -> (..., out)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- convolution ----
struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;  // conv_transpose2d only
};
// x (N,C,H,W), weight (K,C,R,S), bias (K) or undefined -> (N,K,P,Q)
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Conv2dOptions opt = {});
// x (N,C,H,W), weight (C,K,R,S) (PyTorch layout), bias (K) -> (N,K,(H-1)s-2p+R+op, ...)
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Conv2dOptions opt = {});

// ---- normalization ----
// x (N,C) or (N,C,H,W). training: batch statistics, and running stats (when defined)
// updated in place with `momentum`; eval: running stats. gamma/beta may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);

// ---- pooling and resampling, x (N,C,H,W) ----
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);  // stride 0: = kernel
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
Tensor upsample_nearest2d(const Tensor& x, int64_t scale);

// ---- shape and indexing ----
Tensor reshape(const Tensor& x, const Shape& shape);
// The extents spelled out; one may be -1, inferred from x.numel() (a Shape cannot hold -1).
Tensor reshape(const Tensor& x, std::initializer_list<int64_t> extents);
Tensor flatten(const Tensor& x, int start_dim = 1);  // dims start_dim.. merged into one
Tensor permute(const Tensor& x, const std::vector<int>& dims);
Tensor transpose(const Tensor& x, int dim0, int dim1);
Tensor concat(const std::vector<Tensor>& xs, int dim);
Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length);
Tensor index_select(const Tensor& x, int dim, const std::vector<int32_t>& indices);
// Sums `x` down to `shape` (the inverse of broadcasting `shape` up to x's shape).
Tensor sum_to(const Tensor& x, const Shape& shape);
// Repeats `x` along its extent-1 (and missing leading) dims up to `shape`, as binary ops
// broadcast; its backward is sum_to.
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// ---- reductions ----
Tensor sum(const Tensor& x);  // all elements -> shape []
Tensor sum(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);
Tensor max(const Tensor& x);  // gradient flows to the first maximal element
Tensor max(const Tensor& x, int dim, bool keepdim = false);

// ---- softmax ----
Tensor softmax(const Tensor& x, int dim);
Tensor log_softmax(const Tensor& x, int dim);

// ---- losses (mean over all elements / rows) ----
Tensor bce_with_logits(const Tensor& logits, const Tensor& target);
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels);  // logits (N, C)
Tensor mse_loss(const Tensor& x, const Tensor& target);
Tensor l1_loss(const Tensor& x, const Tensor& target);

// ---- embedding and dropout ----
Tensor embedding(const Tensor& weight, const std::vector<int32_t>& indices);  // weight (V, D) -> (n, D)
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

}  // namespace cfgan
