// The contract between the engine and a backend: every kernel the engine calls,
// as one table of plain functions over raw pointers. Each backend (cpu, cuda,
// emulated cuda) fills one table; the engine picks the table by a tensor's device.
// The kernels themselves, with their conventions, are listed in kernels/kernel_list.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/precision.h"

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
// precision: the operands' rounding before they are multiplied (kernels/precision.h).
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
  MatmulPrecision precision = MatmulPrecision::fp32;
};

// 2-D convolution geometry: input (N,C,H,W), weight (K,C,R,S), output (N,K,P,Q).
struct ConvGeom {
  int64_t n, c, h, w;      // input
  int64_t k, r, s;         // output channels, kernel height, kernel width
  int64_t stride_h, stride_w, pad_h, pad_w;
  int64_t p, q;            // output height, width
  MatmulPrecision precision;  // of the products the convolution is made of (fp32 when zeroed)
};

// 2-D pooling geometry over planes = N*C: input (planes,H,W), output (planes,P,Q).
struct PoolGeom {
  int64_t planes, h, w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  int64_t p, q;
};

// One backend's kernels: a pointer per entry of kernels/kernel_list.h, where each is documented.
struct Kernels {
  const char* name;
#define CFGAN_KERNEL(ret, fn, params) ret(*fn) params;
#include "kernels/kernel_list.h"
#undef CFGAN_KERNEL
};

// The table of the CPU backend (always present).
const Kernels& cpu_kernels();

}  // namespace cfgan
