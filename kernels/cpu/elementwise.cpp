#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/collapse_dims.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

// Applies f(i) for i in [0, n), threaded when n is large. Each thread runs its range
// through its own copy of f: with the closure shared, every store through an output
// pointer might change a captured scalar (leaky_relu's alpha), so the compiler reloaded it
// per element and left the loop scalar and branchy. `omp simd` then turns branches such
// as x > 0 ? x : alpha * x into vector blends; each element is computed as before.
template <typename F>
void for_each_index(int64_t n, const F& f) {
#pragma omp parallel if (n > kParallelElements)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    const F local = f;
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) local(i);
  }
}

float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// PyTorch's softplus (beta 1, threshold 20) returns x above the threshold.
float softplusf(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

}  // namespace

void fill(float* out, float value, int64_t n) {
  for_each_index(n, [=](int64_t i) { out[i] = value; });
}

void unary_forward(UnaryOp op, float alpha, float beta, float* out, const float* in, int64_t n) {
  auto run = [&](auto f) { for_each_index(n, [=](int64_t i) { out[i] = f(in[i]); }); };
  switch (op) {
    case UnaryOp::neg: return run([](float x) { return -x; });
    case UnaryOp::exp: return run([](float x) { return std::exp(x); });
    case UnaryOp::log: return run([](float x) { return std::log(x); });
    case UnaryOp::sqrt: return run([](float x) { return std::sqrt(x); });
    case UnaryOp::abs: return run([](float x) { return std::fabs(x); });
    case UnaryOp::relu: return run([](float x) { return x > 0.0f ? x : 0.0f; });
    case UnaryOp::leaky_relu: return run([=](float x) { return x > 0.0f ? x : alpha * x; });
    case UnaryOp::tanh: return run([](float x) { return std::tanh(x); });
    case UnaryOp::sigmoid: return run([](float x) { return sigmoidf(x); });
    case UnaryOp::softplus: return run([](float x) { return softplusf(x); });
    case UnaryOp::pow: return run([=](float x) { return std::pow(x, alpha); });
    case UnaryOp::clamp: return run([=](float x) { return std::min(std::max(x, alpha), beta); });
    case UnaryOp::affine: return run([=](float x) { return alpha * x + beta; });
    case UnaryOp::square: return run([](float x) { return x * x; });
  }
}

void unary_backward(UnaryOp op, float alpha, float beta, float* din, const float* dout, const float* in,
                    const float* out, int64_t n, bool accumulate) {
  // f(i) is d op / d in at element i.
  auto run = [&](auto f) {
    if (accumulate) {
      for_each_index(n, [=](int64_t i) { din[i] += dout[i] * f(i); });
    } else {
      // 0 + : what adding into a zero-filled buffer gave, signed zeros included.
      for_each_index(n, [=](int64_t i) { din[i] = 0.0f + dout[i] * f(i); });
    }
  };
  switch (op) {
    case UnaryOp::neg: return run([](int64_t) { return -1.0f; });
    case UnaryOp::exp: return run([=](int64_t i) { return out[i]; });
    case UnaryOp::log: return run([=](int64_t i) { return 1.0f / in[i]; });
    case UnaryOp::sqrt: return run([=](int64_t i) { return 0.5f / out[i]; });
    case UnaryOp::abs: return run([=](int64_t i) { return in[i] > 0.0f ? 1.0f : (in[i] < 0.0f ? -1.0f : 0.0f); });
    case UnaryOp::relu: return run([=](int64_t i) { return in[i] > 0.0f ? 1.0f : 0.0f; });
    case UnaryOp::leaky_relu: return run([=](int64_t i) { return in[i] > 0.0f ? 1.0f : alpha; });
    case UnaryOp::tanh: return run([=](int64_t i) { return 1.0f - out[i] * out[i]; });
    case UnaryOp::sigmoid: return run([=](int64_t i) { return out[i] * (1.0f - out[i]); });
    case UnaryOp::softplus: return run([=](int64_t i) { return in[i] > 20.0f ? 1.0f : sigmoidf(in[i]); });
    case UnaryOp::pow: return run([=](int64_t i) { return alpha * std::pow(in[i], alpha - 1.0f); });
    case UnaryOp::clamp: return run([=](int64_t i) { return in[i] >= alpha && in[i] <= beta ? 1.0f : 0.0f; });
    case UnaryOp::affine: return run([=](int64_t) { return alpha; });
    case UnaryOp::square: return run([=](int64_t i) { return 2.0f * in[i]; });
  }
}

namespace {

// Offset of row `row` (all dims but the last) under `stride`.
int64_t row_offset(int64_t row, int ndim, const int64_t* shape, const int64_t* stride) {
  int64_t offset = 0;
  for (int d = ndim - 2; d >= 0; --d) {
    offset += (row % shape[d]) * stride[d];
    row /= shape[d];
  }
  return offset;
}

template <typename Op>
void binary_rows(Op op, float* out, const float* a, const float* b, const BroadcastGeom& g) {
  const int64_t cols = g.ndim > 0 ? g.out_shape[g.ndim - 1] : 1;
  int64_t rows = 1;
  for (int d = 0; d + 1 < g.ndim; ++d) rows *= g.out_shape[d];
  const int64_t sa = g.ndim > 0 ? g.a_stride[g.ndim - 1] : 0;
  const int64_t sb = g.ndim > 0 ? g.b_stride[g.ndim - 1] : 0;
#pragma omp parallel for schedule(static) if (rows * cols > kParallelElements)
  for (int64_t row = 0; row < rows; ++row) {
    const float* ar = a + row_offset(row, g.ndim, g.out_shape, g.a_stride);
    const float* br = b + row_offset(row, g.ndim, g.out_shape, g.b_stride);
    float* o = out + row * cols;
    if (sa == 1 && sb == 1) {
      for (int64_t j = 0; j < cols; ++j) o[j] = op(ar[j], br[j]);
    } else if (sa == 1 && sb == 0) {
      const float bv = br[0];
      for (int64_t j = 0; j < cols; ++j) o[j] = op(ar[j], bv);
    } else if (sa == 0 && sb == 1) {
      const float av = ar[0];
      for (int64_t j = 0; j < cols; ++j) o[j] = op(av, br[j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) o[j] = op(ar[j * sa], br[j * sb]);
    }
  }
}

// Merges neighbouring dims that both operands step through as one (contiguous together,
// or both broadcast) and drops extent-1 dims, as the CUDA kernel does, so rows are long: a
// product of two (64,128,7,7) tensors, or of one with a (1,128,1,1) per-channel tensor, is
// then a few long rows instead of 57344 rows of 7 with an offset computed for each.
BroadcastGeom coalesced(const BroadcastGeom& in) {
  int64_t stride[2][kMaxDims];
  BroadcastGeom g = in;
  for (int d = 0; d < in.ndim; ++d) stride[0][d] = in.a_stride[d], stride[1][d] = in.b_stride[d];
  g.ndim = collapse_dims<2>(in.ndim, g.out_shape, stride);
  for (int d = 0; d < g.ndim; ++d) g.a_stride[d] = stride[0][d], g.b_stride[d] = stride[1][d];
  return g;
}

}  // namespace

void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const BroadcastGeom& geom) {
  const BroadcastGeom g = coalesced(geom);
  switch (op) {
    case BinaryOp::add: return binary_rows([](float x, float y) { return x + y; }, out, a, b, g);
    case BinaryOp::sub: return binary_rows([](float x, float y) { return x - y; }, out, a, b, g);
    case BinaryOp::mul: return binary_rows([](float x, float y) { return x * y; }, out, a, b, g);
    case BinaryOp::div: return binary_rows([](float x, float y) { return x / y; }, out, a, b, g);
  }
}

void axpy(float* y, float alpha, const float* x, int64_t n) {
  for_each_index(n, [=](int64_t i) { y[i] += alpha * x[i]; });
}

void mul_accumulate(float* y, const float* a, const float* b, int64_t n) {
  for_each_index(n, [=](int64_t i) { y[i] += a[i] * b[i]; });
}

namespace {

template <typename F>
void strided_rows(const StridedGeom& g, F f) {
  const int64_t cols = g.ndim > 0 ? g.shape[g.ndim - 1] : 1;
  const int64_t step = g.ndim > 0 ? g.stride[g.ndim - 1] : 0;
  int64_t rows = 1;
  for (int d = 0; d + 1 < g.ndim; ++d) rows *= g.shape[d];
#pragma omp parallel for schedule(static) if (rows * cols > kParallelElements)
  for (int64_t row = 0; row < rows; ++row) {
    f(row * cols, g.offset + row_offset(row, g.ndim, g.shape, g.stride), cols, step);
  }
}

}  // namespace

void strided_copy(float* out, const float* src, const StridedGeom& g) {
  strided_rows(g, [=](int64_t o, int64_t s, int64_t cols, int64_t step) {
    for (int64_t j = 0; j < cols; ++j) out[o + j] = src[s + j * step];
  });
}

void strided_accumulate(float* dst, const float* src, const StridedGeom& g) {
  strided_rows(g, [=](int64_t o, int64_t s, int64_t cols, int64_t step) {
    for (int64_t j = 0; j < cols; ++j) dst[s + j * step] += src[o + j];
  });
}

}  // namespace cfgan::cpu
