// Elementwise kernels, matching kernels/cpu/elementwise.cpp.
//
// Contiguous work goes through elementwise_map() (kernels/cuda/map.cuh: grid-stride,
// float4 where the pointers allow). Each UnaryOp is its own template instance, so the
// op's switch happens once on the host instead of per element, and a backward reads
// only the arrays its derivative needs (exp reads `out`, log reads `in`, affine
// neither). Broadcasting and strided views collapse their dims on the host first
// (kernels/cuda/offsets.cuh): same-shape binaries and contiguous slices become maps,
// the rest gather with one fast division per remaining dim, and transposing views
// go through shared-memory tiles.
//
// Expressions follow the CPU's, so NaN propagates the same way (relu(NaN) = 0 and
// clamp(NaN) = NaN, as the CPU's comparisons give); nvcc may contract a * b + c
// into an FMA, which the tests' tolerances allow.
#include <cmath>
#include <optional>
#include <type_traits>

#include "kernels/cuda/cuda.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/map.cuh"
#include "kernels/cuda/offsets.cuh"

namespace cfgan::CFGAN_CUDA_NS {

namespace {

constexpr unsigned kThreads = 256;

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

struct Fill {
  static constexpr bool kAccumulates = false;
  float value;
  __device__ float operator()() const { return value; }
};

template <UnaryOp kOp>
struct UnaryForward {
  static constexpr bool kAccumulates = false;
  float alpha, beta;
  __device__ float operator()(float x) const {
    if constexpr (kOp == UnaryOp::neg) return -x;
    if constexpr (kOp == UnaryOp::exp) return expf(x);
    if constexpr (kOp == UnaryOp::log) return logf(x);
    if constexpr (kOp == UnaryOp::sqrt) return sqrtf(x);
    if constexpr (kOp == UnaryOp::abs) return fabsf(x);
    if constexpr (kOp == UnaryOp::relu) return x > 0.0f ? x : 0.0f;
    if constexpr (kOp == UnaryOp::leaky_relu) return x > 0.0f ? x : alpha * x;
    if constexpr (kOp == UnaryOp::tanh) return tanhf(x);
    if constexpr (kOp == UnaryOp::sigmoid) return sigmoid(x);
    if constexpr (kOp == UnaryOp::softplus) return x > 20.0f ? x : log1pf(expf(x));  // PyTorch's threshold
    if constexpr (kOp == UnaryOp::pow) return powf(x, alpha);
    if constexpr (kOp == UnaryOp::clamp) {
      const float low = x < alpha ? alpha : x;  // std::max / std::min: NaN stays NaN
      return beta < low ? beta : low;
    }
    if constexpr (kOp == UnaryOp::affine) return alpha * x + beta;
    if constexpr (kOp == UnaryOp::square) return x * x;
  }
};

// What a backward reads besides dout: the op's input, its output, or neither.
enum class Operand { in, out, none };

template <UnaryOp kOp>
constexpr Operand backward_operand() {
  switch (kOp) {
    case UnaryOp::exp:
    case UnaryOp::sqrt:
    case UnaryOp::tanh:
    case UnaryOp::sigmoid: return Operand::out;
    case UnaryOp::neg:
    case UnaryOp::affine: return Operand::none;
    default: return Operand::in;
  }
}

// din += dout * op'(x), x being backward_operand<kOp>() (unused for `none`).
template <UnaryOp kOp>
struct UnaryBackward {
  static constexpr bool kAccumulates = true;
  float alpha, beta;
  __device__ float derivative(float x) const {
    if constexpr (kOp == UnaryOp::neg) return -1.0f;
    if constexpr (kOp == UnaryOp::exp) return x;
    if constexpr (kOp == UnaryOp::log) return 1.0f / x;
    if constexpr (kOp == UnaryOp::sqrt) return 0.5f / x;
    if constexpr (kOp == UnaryOp::abs) return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    if constexpr (kOp == UnaryOp::relu) return x > 0.0f ? 1.0f : 0.0f;
    if constexpr (kOp == UnaryOp::leaky_relu) return x > 0.0f ? 1.0f : alpha;
    if constexpr (kOp == UnaryOp::tanh) return 1.0f - x * x;
    if constexpr (kOp == UnaryOp::sigmoid) return x * (1.0f - x);
    if constexpr (kOp == UnaryOp::softplus) return x > 20.0f ? 1.0f : sigmoid(x);
    if constexpr (kOp == UnaryOp::pow) return alpha * powf(x, alpha - 1.0f);
    if constexpr (kOp == UnaryOp::clamp) return x >= alpha && x <= beta ? 1.0f : 0.0f;
    if constexpr (kOp == UnaryOp::affine) return alpha;
    if constexpr (kOp == UnaryOp::square) return 2.0f * x;
  }
  __device__ float operator()(float din, float dout, float x) const { return din + dout * derivative(x); }
  __device__ float operator()(float din, float dout) const { return din + dout * derivative(0.0f); }
};

// An accumulating functor applied to an output of 0: writes what adding into a
// zero-filled buffer would, signed zeros included.
template <typename F>
struct Written {
  static constexpr bool kAccumulates = false;
  F f;
  template <typename... V>
  __device__ float operator()(V... v) const {
    return f(0.0f, v...);
  }
};

// Calls run(std::integral_constant<UnaryOp, op>{}): one template instance per op.
template <typename Run>
void with_unary_op(UnaryOp op, Run&& run) {
  switch (op) {
    case UnaryOp::neg: return run(std::integral_constant<UnaryOp, UnaryOp::neg>{});
    case UnaryOp::exp: return run(std::integral_constant<UnaryOp, UnaryOp::exp>{});
    case UnaryOp::log: return run(std::integral_constant<UnaryOp, UnaryOp::log>{});
    case UnaryOp::sqrt: return run(std::integral_constant<UnaryOp, UnaryOp::sqrt>{});
    case UnaryOp::abs: return run(std::integral_constant<UnaryOp, UnaryOp::abs>{});
    case UnaryOp::relu: return run(std::integral_constant<UnaryOp, UnaryOp::relu>{});
    case UnaryOp::leaky_relu: return run(std::integral_constant<UnaryOp, UnaryOp::leaky_relu>{});
    case UnaryOp::tanh: return run(std::integral_constant<UnaryOp, UnaryOp::tanh>{});
    case UnaryOp::sigmoid: return run(std::integral_constant<UnaryOp, UnaryOp::sigmoid>{});
    case UnaryOp::softplus: return run(std::integral_constant<UnaryOp, UnaryOp::softplus>{});
    case UnaryOp::pow: return run(std::integral_constant<UnaryOp, UnaryOp::pow>{});
    case UnaryOp::clamp: return run(std::integral_constant<UnaryOp, UnaryOp::clamp>{});
    case UnaryOp::affine: return run(std::integral_constant<UnaryOp, UnaryOp::affine>{});
    case UnaryOp::square: return run(std::integral_constant<UnaryOp, UnaryOp::square>{});
  }
}

template <BinaryOp kOp>
__device__ __forceinline__ float binary(float a, float b) {
  if constexpr (kOp == BinaryOp::add) return a + b;
  if constexpr (kOp == BinaryOp::sub) return a - b;
  if constexpr (kOp == BinaryOp::mul) return a * b;
  if constexpr (kOp == BinaryOp::div) return a / b;
}

template <BinaryOp kOp>
struct BinarySameShape {
  static constexpr bool kAccumulates = false;
  __device__ float operator()(float a, float b) const { return binary<kOp>(a, b); }
};

template <BinaryOp kOp, typename Index>
__global__ void binary_broadcast_kernel(float* __restrict__ out, const float* __restrict__ a,
                                        const float* __restrict__ b, StridedOffsets<Index, 2> offsets, Index n) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  for (Index i = Index{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    Index at[2];
    offsets.at(i, at);
    out[i] = binary<kOp>(__ldg(a + at[0]), __ldg(b + at[1]));
  }
}

template <typename Run>
void with_binary_op(BinaryOp op, Run&& run) {
  switch (op) {
    case BinaryOp::add: return run(std::integral_constant<BinaryOp, BinaryOp::add>{});
    case BinaryOp::sub: return run(std::integral_constant<BinaryOp, BinaryOp::sub>{});
    case BinaryOp::mul: return run(std::integral_constant<BinaryOp, BinaryOp::mul>{});
    case BinaryOp::div: return run(std::integral_constant<BinaryOp, BinaryOp::div>{});
  }
}

struct Axpy {
  static constexpr bool kAccumulates = true;
  float alpha;
  __device__ float operator()(float y, float x) const { return y + alpha * x; }
};

struct MulAccumulate {
  static constexpr bool kAccumulates = true;
  __device__ float operator()(float y, float a, float b) const { return y + a * b; }
};

struct Copy {
  static constexpr bool kAccumulates = false;
  __device__ float operator()(float x) const { return x; }
};

// Element i of the contiguous side <-> the strided side at offsets.at(i).
template <bool kAccumulate, typename Index>
__global__ void strided_kernel(float* __restrict__ contiguous_or_dst, const float* __restrict__ src_or_contiguous,
                               StridedOffsets<Index, 1> offsets, Index n) {
  const Index stride = Index{gridDim.x} * blockDim.x;
  for (Index i = Index{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    Index at[1];
    offsets.at(i, at);
    if constexpr (kAccumulate) {
      contiguous_or_dst[at[0]] += __ldg(src_or_contiguous + i);
    } else {
      contiguous_or_dst[i] = __ldg(src_or_contiguous + at[0]);
    }
  }
}

// A StridedGeom with its dims collapsed; `contiguous` when it is a plain slice.
struct CollapsedView {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t stride[1][kMaxDims];
  int64_t numel;
  bool contiguous() const { return ndim == 0 || (ndim == 1 && stride[0][0] == 1); }
};

CollapsedView collapse(const StridedGeom& g) {
  CollapsedView v{};
  v.numel = 1;
  for (int d = 0; d < g.ndim; ++d) {
    v.shape[d] = g.shape[d];
    v.stride[0][d] = g.stride[d];
    v.numel *= g.shape[d];
  }
  v.ndim = v.numel == 0 ? 0 : collapse_dims<1>(g.ndim, v.shape, v.stride);
  return v;
}

// ---- transposing views through shared memory ----
//
// A permute that moves the strided operand's contiguous dim away from the end has a
// dim `row` with stride 1 in it while the last dim (`col`, contiguous in the dense
// operand) is strided. The gather above then reads 32 cache lines per warp. Instead a
// block moves 32 x 32 tiles (row, col) through shared memory: it touches the strided
// operand with threadIdx.x along row and the dense one with threadIdx.x along col, so
// both sides are coalesced. The other dims ("batch") select a tile plane.

constexpr int kTile = 32;
constexpr int kTileRowsPerPass = 8;  // blockDim (32, 8): each thread moves 4 elements

struct TransposeGeom {
  int64_t rows, cols;            // extents of the row and col dims
  int64_t strided_col_stride;    // of col in the strided operand (row's is 1)
  int64_t dense_row_stride;      // of row in the dense operand (col's is 1)
  int batch_ndim;
  int64_t batch_shape[kMaxDims], batch_strided[kMaxDims], batch_dense[kMaxDims];
  int64_t row_tiles, col_tiles, tiles;
};

// Copy: dst is the dense output, src the strided view; accumulate: dst is the strided
// view, src the dense input. The accumulating view does not alias itself, so every
// element has one writer.
template <bool kAccumulate>
__global__ void strided_transpose_kernel(float* __restrict__ dst, const float* __restrict__ src, TransposeGeom g) {
  __shared__ float tile[kTile][kTile + 1];  // [col][row]; +1: the column walk hits 32 banks
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (int64_t t = blockIdx.x; t < g.tiles; t += gridDim.x) {
    const int64_t col0 = t % g.col_tiles * kTile, row0 = t / g.col_tiles % g.row_tiles * kTile;
    int64_t plane = t / (g.col_tiles * g.row_tiles), strided_base = 0, dense_base = 0;
    for (int d = g.batch_ndim - 1; d >= 0; --d) {
      const int64_t coord = plane % g.batch_shape[d];
      plane /= g.batch_shape[d];
      strided_base += coord * g.batch_strided[d];
      dense_base += coord * g.batch_dense[d];
    }
    // The strided side walks row with threadIdx.x (stride 1 there), the dense side col.
    const auto strided_at = [&](int c) { return strided_base + (row0 + tx) + (col0 + c) * g.strided_col_stride; };
    const auto dense_at = [&](int r) { return dense_base + (row0 + r) * g.dense_row_stride + (col0 + tx); };
    const bool row_in = row0 + tx < g.rows, col_in = col0 + tx < g.cols;
    if constexpr (!kAccumulate) {
      for (int c = ty; c < kTile; c += kTileRowsPerPass) {
        if (row_in && col0 + c < g.cols) tile[c][tx] = __ldg(src + strided_at(c));
      }
      __syncthreads();
      for (int r = ty; r < kTile; r += kTileRowsPerPass) {
        if (col_in && row0 + r < g.rows) dst[dense_at(r)] = tile[tx][r];
      }
    } else {
      for (int r = ty; r < kTile; r += kTileRowsPerPass) {
        if (col_in && row0 + r < g.rows) tile[tx][r] = __ldg(src + dense_at(r));
      }
      __syncthreads();
      for (int c = ty; c < kTile; c += kTileRowsPerPass) {
        if (row_in && col0 + c < g.cols) dst[strided_at(c)] += tile[c][tx];
      }
    }
    __syncthreads();  // the tile is refilled for the next t
  }
}

// The transpose geometry of a collapsed view, when it is one worth tiling: the last
// dim strided, another contiguous, both at least half a tile long.
std::optional<TransposeGeom> transpose_geom(const CollapsedView& v) {
  const int last = v.ndim - 1;
  if (v.ndim < 2 || v.stride[0][last] == 1) return std::nullopt;
  int row = -1;
  for (int d = 0; d < last; ++d) {
    if (v.stride[0][d] == 1) row = d;
  }
  if (row < 0 || v.shape[row] < kTile / 2 || v.shape[last] < kTile / 2) return std::nullopt;
  TransposeGeom g{};
  g.rows = v.shape[row], g.cols = v.shape[last];
  g.strided_col_stride = v.stride[0][last];
  int64_t dense_stride = 1;
  int64_t dense_strides[kMaxDims];
  for (int d = last; d >= 0; --d) dense_strides[d] = dense_stride, dense_stride *= v.shape[d];
  g.dense_row_stride = dense_strides[row];
  for (int d = 0; d < last; ++d) {
    if (d == row) continue;
    g.batch_shape[g.batch_ndim] = v.shape[d];
    g.batch_strided[g.batch_ndim] = v.stride[0][d];
    g.batch_dense[g.batch_ndim] = dense_strides[d];
    ++g.batch_ndim;
  }
  g.row_tiles = (g.rows + kTile - 1) / kTile, g.col_tiles = (g.cols + kTile - 1) / kTile;
  g.tiles = v.numel / (g.rows * g.cols) * g.row_tiles * g.col_tiles;
  return g;
}

template <bool kAccumulate>
void strided(float* contiguous_or_dst, const float* src_or_contiguous, const CollapsedView& v) {
  if (const std::optional<TransposeGeom> g = transpose_geom(v)) {
    CFGAN_LAUNCH(strided_transpose_kernel<kAccumulate>, grid_stride_blocks(g->tiles, 1),
                 dim3(kTile, kTileRowsPerPass), 0, nullptr, contiguous_or_dst, src_or_contiguous, *g);
    return;
  }
  if (fits_index32<1>(v.ndim, v.shape, v.stride, v.numel)) {
    const auto offsets = make_strided_offsets<uint32_t, 1>(v.ndim, v.shape, v.stride);
    CFGAN_LAUNCH((strided_kernel<kAccumulate, uint32_t>), grid_stride_blocks(v.numel, kThreads), kThreads, 0, nullptr,
                 contiguous_or_dst, src_or_contiguous, offsets, static_cast<uint32_t>(v.numel));
  } else {
    const auto offsets = make_strided_offsets<int64_t, 1>(v.ndim, v.shape, v.stride);
    CFGAN_LAUNCH((strided_kernel<kAccumulate, int64_t>), grid_stride_blocks(v.numel, kThreads), kThreads, 0, nullptr,
                 contiguous_or_dst, src_or_contiguous, offsets, v.numel);
  }
}

}  // namespace

void fill(float* out, float value, int64_t n) { elementwise_map(Fill{value}, out, n); }

void unary_forward(UnaryOp op, float alpha, float beta, float* out, const float* in, int64_t n) {
  with_unary_op(op, [&](auto kOp) { elementwise_map(UnaryForward<kOp.value>{alpha, beta}, out, n, in); });
}

void unary_backward(UnaryOp op, float alpha, float beta, float* din, const float* dout, const float* in,
                    const float* out, int64_t n, bool accumulate) {
  const auto map = [&](const auto& f, auto... operand) {
    if (accumulate) {
      elementwise_map(f, din, n, dout, operand...);
    } else {
      elementwise_map(Written<std::decay_t<decltype(f)>>{f}, din, n, dout, operand...);
    }
  };
  with_unary_op(op, [&](auto kOp) {
    const UnaryBackward<kOp.value> f{alpha, beta};
    constexpr Operand operand = backward_operand<kOp.value>();
    if constexpr (operand == Operand::in) {
      map(f, in);
    } else if constexpr (operand == Operand::out) {
      map(f, out);
    } else {
      map(f);
    }
  });
}

void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const BroadcastGeom& g) {
  int64_t shape[kMaxDims];
  int64_t stride[2][kMaxDims];
  int64_t n = 1;
  for (int d = 0; d < g.ndim; ++d) {
    shape[d] = g.out_shape[d];
    stride[0][d] = g.a_stride[d];
    stride[1][d] = g.b_stride[d];
    n *= shape[d];
  }
  if (n == 0) return;
  const int ndim = collapse_dims<2>(g.ndim, shape, stride);
  with_binary_op(op, [&](auto kOp) {
    if (ndim == 0 || (ndim == 1 && stride[0][0] == 1 && stride[1][0] == 1)) {
      elementwise_map(BinarySameShape<kOp.value>{}, out, n, a, b);
    } else if (fits_index32<2>(ndim, shape, stride, n)) {
      const auto offsets = make_strided_offsets<uint32_t, 2>(ndim, shape, stride);
      CFGAN_LAUNCH((binary_broadcast_kernel<kOp.value, uint32_t>), grid_stride_blocks(n, kThreads), kThreads, 0,
                   nullptr, out, a, b, offsets, static_cast<uint32_t>(n));
    } else {
      const auto offsets = make_strided_offsets<int64_t, 2>(ndim, shape, stride);
      CFGAN_LAUNCH((binary_broadcast_kernel<kOp.value, int64_t>), grid_stride_blocks(n, kThreads), kThreads, 0,
                   nullptr, out, a, b, offsets, n);
    }
  });
}

void axpy(float* y, float alpha, const float* x, int64_t n) { elementwise_map(Axpy{alpha}, y, n, x); }

void mul_accumulate(float* y, const float* a, const float* b, int64_t n) {
  elementwise_map(MulAccumulate{}, y, n, a, b);
}

void strided_copy(float* out, const float* src, const StridedGeom& g) {
  const CollapsedView v = collapse(g);
  if (v.numel == 0) return;
  if (v.contiguous()) {
    elementwise_map(Copy{}, out, v.numel, src + g.offset);
  } else {
    strided<false>(out, src + g.offset, v);
  }
}

void strided_accumulate(float* dst, const float* src, const StridedGeom& g) {
  const CollapsedView v = collapse(g);
  if (v.numel == 0) return;
  if (v.contiguous()) {
    elementwise_map(Axpy{1.0f}, dst + g.offset, v.numel, src);  // y + 1 * x is y + x exactly, FMA or not
  } else {
    strided<true>(dst + g.offset, src, v);
  }
}

}  // namespace cfgan::CFGAN_CUDA_NS
