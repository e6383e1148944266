// CudaParity for the elementwise kernels (kernels/cuda/elementwise.cu).
//
// The contiguous kernels run over sizes that are not multiples of 4 or of a block, with
// every array at 0..3 floats past a 16-byte boundary, in step (the float4 path with a
// scalar head) and out of step (the scalar path). Floats before the shifted start
// are compared too, so a write there fails like one into a guard band.
//
// Strided views include permutes that take the shared-memory transpose path (rows and
// columns of 16 or more, partial tiles, one or two batch dims) and ones that do not.
//
// Tolerances, per kernel (inputs are O(1) to O(10)):
// - Fill, copies, strided copy / accumulate, binary ops, relu-like unary ops: exact
//   (one IEEE operation or none per element, the same on both sides).
// - Transcendental unary ops (exp, log, tanh, sigmoid, softplus, pow): 1e-6 relative
//   + 1e-6 absolute; CUDA's expf / tanhf / powf are within 2 ulp, not correctly rounded.
// - affine, axpy, mul_accumulate and every backward: 1e-6 relative + 1e-6 absolute;
//   nvcc contracts d + g * f into an FMA (one rounding instead of two).
#include <cstring>
#include <functional>
#include <numeric>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

constexpr int64_t kSizes[] = {1, 5, 7, 13, 129, 100003};

// (output shift, input shift) in floats past a 16-byte boundary.
constexpr std::pair<int, int> kShifts[] = {{0, 0}, {1, 1}, {3, 3}, {1, 0}, {0, 2}};

constexpr float kUntouched = 12345.0f;  // what the floats before a shifted array hold

using MapLaunch = std::function<void(const Kernels& k, float* out, const std::vector<const float*>& in)>;

// Runs `launch` on both backends over arrays of n elements (out starting as `initial`)
// placed at the given shifts, and compares out including the floats before it.
void check_map(const Kernels& cuda, const std::vector<std::vector<float>>& inputs, const std::vector<float>& initial,
               std::pair<int, int> shift, const MapLaunch& launch, float atol, float rtol, const std::string& what) {
  const auto [out_shift, in_shift] = shift;
  auto shifted = [](const std::vector<float>& v, int by) {
    std::vector<float> padded(by, kUntouched);
    padded.insert(padded.end(), v.begin(), v.end());
    return padded;
  };
  std::vector<float> cpu_out = shifted(initial, out_shift);
  std::vector<std::vector<float>> cpu_in;
  for (const auto& v : inputs) cpu_in.push_back(shifted(v, in_shift));
  std::vector<const float*> cpu_ptrs;
  for (const auto& v : cpu_in) cpu_ptrs.push_back(v.data() + in_shift);
  launch(cpu_kernels(), cpu_out.data() + out_shift, cpu_ptrs);

  GuardedBuffer<float> out(cuda, shifted(initial, out_shift));
  std::vector<std::unique_ptr<GuardedBuffer<float>>> in;
  std::vector<const float*> ptrs;
  for (const auto& v : cpu_in) {
    in.push_back(std::make_unique<GuardedBuffer<float>>(cuda, v));
    ptrs.push_back(in.back()->data() + in_shift);
  }
  launch(cuda, out.data() + out_shift, ptrs);
  const std::string where =
      what + " (out shift " + std::to_string(out_shift) + ", input shift " + std::to_string(in_shift) + ")";
  expect_close(out.read(where), cpu_out, atol, rtol, where);
}

std::string sized(const std::string& what, int64_t n) { return what + ", n " + std::to_string(n); }

// Runs `launch` over an empty shape with `buffer` as every pointer: it must launch
// nothing (an empty grid is an error on the device and in the emulator) and write nothing.
template <typename Launch>
void check_empty(const Kernels& cuda, const std::string& what, Launch launch) {
  GuardedBuffer<float> buffer(cuda, 1, 7.0f);
  launch(buffer.data());
  EXPECT_EQ(buffer.read(what), std::vector<float>{7.0f}) << what;
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  float alpha, beta;
  float lo, hi;    // input range
  float tolerance; // relative and absolute (0: exact)
};

// Positive-only ops get inputs in [0.1, 4]; the others cross 0 and the softplus threshold.
constexpr UnaryCase kUnaryCases[] = {
    {UnaryOp::neg, "neg", 0, 0, -25, 25, 0},
    {UnaryOp::exp, "exp", 0, 0, -10, 10, 1e-6f},
    {UnaryOp::log, "log", 0, 0, 0.1f, 4, 1e-6f},
    {UnaryOp::sqrt, "sqrt", 0, 0, 0.1f, 4, 0},  // IEEE sqrt is correctly rounded on both
    {UnaryOp::abs, "abs", 0, 0, -25, 25, 0},
    {UnaryOp::relu, "relu", 0, 0, -25, 25, 0},
    {UnaryOp::leaky_relu, "leaky_relu", 0.2f, 0, -25, 25, 0},
    {UnaryOp::tanh, "tanh", 0, 0, -5, 5, 1e-6f},
    {UnaryOp::sigmoid, "sigmoid", 0, 0, -25, 25, 1e-6f},
    {UnaryOp::softplus, "softplus", 0, 0, -25, 25, 1e-6f},
    {UnaryOp::pow, "pow", 2.5f, 0, 0.1f, 4, 1e-6f},
    {UnaryOp::clamp, "clamp", -1.0f, 2.0f, -25, 25, 0},
    {UnaryOp::affine, "affine", 1.5f, -0.25f, -25, 25, 1e-6f},
    {UnaryOp::square, "square", 0, 0, -25, 25, 0},
};

// Inputs for one op: random in its range, led by the values where ops branch (0, the
// softplus threshold 20, the clamp bounds) and a NaN, where the op is defined there.
std::vector<float> unary_inputs(const UnaryCase& c, int64_t n, uint64_t seed) {
  std::vector<float> x = random_values(n, c.lo, c.hi, seed);
  const std::vector<float> specials =
      c.lo < 0 ? std::vector<float>{0.0f, 20.0f, 20.5f, -1.0f, 2.0f, NAN} : std::vector<float>{1.0f, NAN};
  for (size_t i = 0; i < specials.size() && i < x.size(); ++i) x[i] = specials[i];
  return x;
}

}  // namespace

TEST_P(CudaParity, Fill) {
  for (const int64_t n : kSizes) {
    for (const auto& shift : kShifts) {
      check_map(cuda(), {}, std::vector<float>(n, -1.0f), shift,
                [&](const Kernels& k, float* out, const std::vector<const float*>&) { k.fill(out, 0.75f, n); }, 0, 0,
                sized("fill", n));
    }
  }
  check_empty(cuda(), "fill, n 0", [&](float* p) { cuda().fill(p, 0.0f, 0); });
}

TEST_P(CudaParity, UnaryForward) {
  for (const UnaryCase& c : kUnaryCases) {
    for (const int64_t n : {int64_t{7}, int64_t{129}, int64_t{4099}}) {
      for (const auto& shift : {kShifts[1], kShifts[3]}) {
        check_map(cuda(), {unary_inputs(c, n, n)}, std::vector<float>(n, 0.0f), shift,
                  [&](const Kernels& k, float* out, const std::vector<const float*>& in) {
                    k.unary_forward(c.op, c.alpha, c.beta, out, in[0], n);
                  },
                  c.tolerance, c.tolerance, sized(std::string("unary_forward ") + c.name, n));
      }
    }
  }
  check_empty(cuda(), "unary_forward, n 0",
              [&](float* p) { cuda().unary_forward(UnaryOp::exp, 0, 0, p, p, 0); });
}

TEST_P(CudaParity, UnaryBackward) {
  for (const UnaryCase& c : kUnaryCases) {
    for (const int64_t n : {int64_t{7}, int64_t{129}, int64_t{4099}}) {
      const std::vector<float> x = unary_inputs(c, n, n);
      std::vector<float> y(n);
      cpu().unary_forward(c.op, c.alpha, c.beta, y.data(), x.data(), n);
      const std::vector<float> dout = random_values(n, -1, 1, n + 1), din = random_values(n, -1, 1, n + 2);
      // Written over NaN, the CPU gives what it adds into zeros, bit for bit (NaN inputs
      // included, hence memcmp).
      std::vector<float> written = nan_filled(n), added(n, 0.0f);
      cpu().unary_backward(c.op, c.alpha, c.beta, written.data(), dout.data(), x.data(), y.data(), n, false);
      cpu().unary_backward(c.op, c.alpha, c.beta, added.data(), dout.data(), x.data(), y.data(), n, true);
      EXPECT_EQ(std::memcmp(written.data(), added.data(), sizeof(float) * n), 0) << c.name << ", n " << n;
      for (const auto& shift : {kShifts[0], kShifts[2], kShifts[4]}) {
        for (const bool accumulate : {true, false}) {  // writing: over NaN, which must go unread
          check_map(cuda(), {dout, x, y}, accumulate ? din : nan_filled(din.size()), shift,
                    [&](const Kernels& k, float* out, const std::vector<const float*>& in) {
                      k.unary_backward(c.op, c.alpha, c.beta, out, in[0], in[1], in[2], n, accumulate);
                    },
                    1e-6f, 1e-6f, sized(std::string("unary_backward ") + c.name + (accumulate ? "" : " written"), n));
        }
      }
    }
  }
  check_empty(cuda(), "unary_backward, n 0",
              [&](float* p) { cuda().unary_backward(UnaryOp::exp, 0, 0, p, p, p, p, 0, true); });
}

TEST_P(CudaParity, Axpy) {
  for (const int64_t n : kSizes) {
    const std::vector<float> x = random_values(n, -2, 2, n), y = random_values(n, -2, 2, n + 1);
    for (const auto& shift : kShifts) {
      check_map(cuda(), {x}, y, shift,
                [&](const Kernels& k, float* out, const std::vector<const float*>& in) {
                  k.axpy(out, -0.7f, in[0], n);
                },
                1e-6f, 1e-6f, sized("axpy", n));
    }
  }
  check_empty(cuda(), "axpy, n 0", [&](float* p) { cuda().axpy(p, 1.0f, p, 0); });
}

TEST_P(CudaParity, MulAccumulate) {
  for (const int64_t n : kSizes) {
    const std::vector<float> a = random_values(n, -2, 2, n), b = random_values(n, -2, 2, n + 1),
                             y = random_values(n, -2, 2, n + 2);
    for (const auto& shift : kShifts) {
      check_map(cuda(), {a, b}, y, shift,
                [&](const Kernels& k, float* out, const std::vector<const float*>& in) {
                  k.mul_accumulate(out, in[0], in[1], n);
                },
                1e-6f, 1e-6f, sized("mul_accumulate", n));
    }
  }
  check_empty(cuda(), "mul_accumulate, n 0", [&](float* p) { cuda().mul_accumulate(p, p, p, 0); });
}

namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

// Row-major strides of `shape`, with 0 where `shape` is 1 and the output is wider.
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out) {
  std::vector<int64_t> strides(out.size());
  int64_t s = 1;
  for (size_t d = out.size(); d-- > 0;) {
    strides[d] = shape[d] == 1 && out[d] != 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

struct BinaryCase {
  const char* name;
  std::vector<int64_t> out, a, b;  // a and b broadcast to out
  bool transpose_a = false;         // a's strides are those of its transpose (last two dims)
};

const BinaryCase kBinaryCases[] = {
    {"scalar", {}, {}, {}},
    {"same shape 1", {1}, {1}, {1}},
    {"same shape 13", {13}, {13}, {13}},
    {"same shape 100003", {100003}, {100003}, {100003}},
    {"scalar b", {129}, {129}, {1}},
    {"scalar a", {7, 13}, {1, 1}, {7, 13}},
    {"row broadcast", {129, 7}, {129, 7}, {1, 7}},
    {"column broadcast", {13, 129}, {13, 129}, {13, 1}},
    {"outer product", {5, 7}, {5, 1}, {1, 7}},
    {"3-d both broadcast", {5, 13, 7}, {5, 1, 7}, {1, 13, 7}},
    {"4-d channels", {3, 5, 7, 13}, {3, 5, 7, 13}, {1, 5, 1, 1}},
    {"transposed a", {7, 13}, {7, 13}, {7, 13}, true},
    {"large broadcast", {317, 316}, {317, 316}, {317, 1}},
};

}  // namespace

TEST_P(CudaParity, BinaryBroadcast) {
  for (const BinaryCase& c : kBinaryCases) {
    BroadcastGeom g{};
    g.ndim = static_cast<int>(c.out.size());
    const std::vector<int64_t> sa = broadcast_strides(c.a, c.out), sb = broadcast_strides(c.b, c.out);
    for (int d = 0; d < g.ndim; ++d) {
      g.out_shape[d] = c.out[d];
      g.a_stride[d] = sa[d];
      g.b_stride[d] = sb[d];
    }
    if (c.transpose_a) g.a_stride[0] = 1, g.a_stride[1] = c.out[0];
    const int64_t n = numel(c.out);
    const std::vector<float> a = random_values(numel(c.a), -4, 4, n), b = random_values(numel(c.b), 0.5f, 4, n + 1);
    for (const BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div}) {
      const std::string what = std::string("binary op ") + std::to_string(static_cast<int>(op)) + ", " + c.name;
      std::vector<float> expected(n);
      cpu().binary_forward(op, expected.data(), a.data(), b.data(), g);
      GuardedBuffer<float> out(cuda(), n, 0.0f), a_buf(cuda(), a), b_buf(cuda(), b);
      cuda().binary_forward(op, out.data(), a_buf.data(), b_buf.data(), g);
      expect_close(out.read(what), expected, 0, 0, what);
    }
  }
  // Same-shape operands off a 16-byte boundary, in and out of step.
  const int64_t n = 129;
  BroadcastGeom g{.ndim = 1, .out_shape = {n}, .a_stride = {1}, .b_stride = {1}};
  for (const auto& shift : kShifts) {
    check_map(cuda(), {random_values(n, -4, 4, 1), random_values(n, 0.5f, 4, 2)}, std::vector<float>(n, 0.0f), shift,
              [&](const Kernels& k, float* out, const std::vector<const float*>& in) {
                k.binary_forward(BinaryOp::div, out, in[0], in[1], g);
              },
              0, 0, "binary div, same shape, shifted");
  }
  const BroadcastGeom empty{.ndim = 2, .out_shape = {3, 0}, .a_stride = {0, 1}, .b_stride = {1, 0}};
  check_empty(cuda(), "binary_forward, shape (3, 0)",
              [&](float* p) { cuda().binary_forward(BinaryOp::add, p, p, p, empty); });
}

namespace {

struct StridedCase {
  const char* name;
  StridedGeom g;
  int64_t src_size;
  bool aliases;  // a broadcast view: fine to copy from, not to accumulate into
};

// The view of a contiguous `shape` permuted by `perm` (out dim d = in dim perm[d]).
StridedCase permuted(const char* name, const std::vector<int64_t>& shape, const std::vector<int>& perm) {
  StridedCase c{name, {}, numel(shape), false};
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) strides[d] = s, s *= shape[d];
  c.g.ndim = static_cast<int>(shape.size());
  for (int d = 0; d < c.g.ndim; ++d) c.g.shape[d] = shape[perm[d]], c.g.stride[d] = strides[perm[d]];
  return c;
}

// Columns [start, start + length) of a contiguous (rows, cols).
StridedCase narrowed(const char* name, int64_t rows, int64_t cols, int64_t start, int64_t length) {
  StridedCase c{name, {}, rows * cols, false};
  c.g.ndim = 2;
  c.g.shape[0] = rows, c.g.shape[1] = length;
  c.g.stride[0] = cols, c.g.stride[1] = 1;
  c.g.offset = start;
  return c;
}

std::vector<StridedCase> strided_cases() {
  std::vector<StridedCase> cases = {
      permuted("one element", {1, 1}, {1, 0}),
      permuted("transpose 5x7", {5, 7}, {1, 0}),
      permuted("permute 2x3x13 -> 13x2x3", {2, 3, 13}, {2, 0, 1}),
      permuted("permute 3x5x7x4 -> 3x7x5x4", {3, 5, 7, 4}, {0, 2, 1, 3}),
      permuted("transpose 317x316 (tiled)", {317, 316}, {1, 0}),
      permuted("permute 3x40x50 -> 3x50x40 (tiled)", {3, 40, 50}, {0, 2, 1}),
      permuted("permute 2x3x33x17 -> 2x17x3x33 (tiled)", {2, 3, 33, 17}, {0, 3, 1, 2}),
      narrowed("narrow columns 3..10 of 5x13", 5, 13, 3, 7),
      narrowed("narrow column 12 of 129x13", 129, 13, 12, 1),
      narrowed("contiguous slice of 1x100003", 1, 100003, 1, 100001),
      narrowed("contiguous slice at 2", 1, 13, 2, 7),
  };
  StridedCase expand{"expand 1x129 -> 7x129", {}, 129, true};
  expand.g.ndim = 2;
  expand.g.shape[0] = 7, expand.g.shape[1] = 129;
  expand.g.stride[0] = 0, expand.g.stride[1] = 1;
  cases.push_back(expand);
  return cases;
}

int64_t numel(const StridedGeom& g) {
  int64_t n = 1;
  for (int d = 0; d < g.ndim; ++d) n *= g.shape[d];
  return n;
}

}  // namespace

TEST_P(CudaParity, StridedCopy) {
  for (const StridedCase& c : strided_cases()) {
    const int64_t n = numel(c.g);
    const std::vector<float> src = random_values(c.src_size, -4, 4, n);
    std::vector<float> expected(n);
    cpu().strided_copy(expected.data(), src.data(), c.g);
    GuardedBuffer<float> out(cuda(), n, 0.0f), src_buf(cuda(), src);
    cuda().strided_copy(out.data(), src_buf.data(), c.g);
    expect_close(out.read(c.name), expected, 0, 0, std::string("strided_copy ") + c.name);
  }
  const StridedGeom empty{.ndim = 2, .shape = {0, 5}, .stride = {1, 3}, .offset = 0};
  check_empty(cuda(), "strided_copy, shape (0, 5)", [&](float* p) { cuda().strided_copy(p, p, empty); });
}

TEST_P(CudaParity, StridedAccumulate) {
  for (const StridedCase& c : strided_cases()) {
    if (c.aliases) continue;
    const int64_t n = numel(c.g);
    const std::vector<float> src = random_values(n, -4, 4, n);
    std::vector<float> expected = random_values(c.src_size, -4, 4, n + 1);
    GuardedBuffer<float> dst(cuda(), expected), src_buf(cuda(), src);
    cpu().strided_accumulate(expected.data(), src.data(), c.g);
    cuda().strided_accumulate(dst.data(), src_buf.data(), c.g);
    expect_close(dst.read(c.name), expected, 0, 0, std::string("strided_accumulate ") + c.name);
  }
  const StridedGeom empty{.ndim = 2, .shape = {0, 5}, .stride = {1, 3}, .offset = 0};
  check_empty(cuda(), "strided_accumulate, shape (0, 5)", [&](float* p) { cuda().strided_accumulate(p, p, empty); });
}
