// CudaParity for the reductions over (outer, r, inner) (kernels/cuda/reduce.cu).
//
// The layouts reach every kernel of kernels/cuda/reduction.cuh: short rows (r <= 32),
// a warp per row (inner == 1, r <= 1024), tiles of 1 to 32 columns, with and without r
// split over blocks, column counts that are not multiples of a tile.
//
// Tolerances, per kernel:
// - ReduceSum: exact on integer-valued inputs (every partial sum is an exact integer,
//   whatever the order, and the scaling is one rounding on both sides); 1e-6 relative
//   + 1e-6 absolute on real inputs (both sum in double, in different orders).
// - ReduceSumBackward: 1e-6 relative + 1e-6 absolute: nvcc contracts din + scale * g
//   into an FMA.
// - ReduceMax, ReduceMaxBackward: exact (comparisons, and one add per element).
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct Layout {
  int64_t outer, r, inner;
};

constexpr Layout kLayouts[] = {
    {1, 1, 1},       // one element
    {7, 5, 1},       // short rows
    {1, 5, 13},      // short columns
    {13, 129, 1},    // a warp per row
    {1000, 40, 1},   // many warp rows
    {3, 1000, 1},    // a warp per long row
    {2, 100003, 1},  // a block per row, split over blocks
    {5, 129, 7},     // tiles of 8 columns, 7 used
    {3, 300, 129},   // tiles of 32 columns, the last with 1, split in two
    {1, 20011, 3},   // tiles of 4 columns, split many ways
    {2, 40, 1100},   // many tiles
};

std::string describe(const std::string& what, const Layout& l) {
  return what + " (outer " + std::to_string(l.outer) + ", r " + std::to_string(l.r) + ", inner " +
         std::to_string(l.inner) + ")";
}

}  // namespace

TEST_P(CudaParity, ReduceSum) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.r * l.inner, outputs = l.outer * l.inner;
    for (const bool integers : {true, false}) {
      const std::vector<float> in = random_values(n, -8, 8, n, integers);
      GuardedBuffer<float> in_buf(cuda(), in);
      for (const float scale : {1.0f, 1.0f / 3.0f}) {
        const std::string what = describe(std::string("reduce_sum, ") + (integers ? "integers" : "reals") +
                                              ", scale " + std::to_string(scale),
                                          l);
        std::vector<float> expected(outputs);
        cpu().reduce_sum(expected.data(), in.data(), l.outer, l.r, l.inner, scale, nullptr);
        GuardedBuffer<float> out(cuda(), outputs, 0.0f);
        Workspace ws(cuda(), cuda().reduce_workspace_bytes(l.outer, l.r, l.inner));
        cuda().reduce_sum(out.data(), in_buf.data(), l.outer, l.r, l.inner, scale, ws.data());
        ws.check(what);
        const float tolerance = integers ? 0.0f : 1e-6f;
        expect_close(out.read(what), expected, tolerance, tolerance, what);
      }
    }
  }
  // r == 0: every output is an empty sum. outer == 0: no output, nothing launched.
  GuardedBuffer<float> out(cuda(), 15, 1.0f);
  cuda().reduce_sum(out.data(), nullptr, 5, 0, 3, 1.0f, nullptr);
  expect_close(out.read("empty sum"), std::vector<float>(15, 0.0f), 0, 0, "reduce_sum with r == 0");
  GuardedBuffer<float> untouched(cuda(), 15, 1.0f);  // a write of 0 would show here
  cuda().reduce_sum(untouched.data(), nullptr, 0, 5, 3, 1.0f, nullptr);
  expect_close(untouched.read("no output"), std::vector<float>(15, 1.0f), 0, 0, "reduce_sum with outer == 0");
}

TEST_P(CudaParity, ReduceSumBackward) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.r * l.inner, outputs = l.outer * l.inner;
    const std::vector<float> dout = random_values(outputs, -2, 2, n);
    std::vector<float> din = random_values(n, -2, 2, n + 1);  // non-zero: the kernel must add
    GuardedBuffer<float> din_buf(cuda(), din), dout_buf(cuda(), dout);
    cpu().reduce_sum_backward(din.data(), dout.data(), l.outer, l.r, l.inner, 0.25f);
    cuda().reduce_sum_backward(din_buf.data(), dout_buf.data(), l.outer, l.r, l.inner, 0.25f);
    const std::string what = describe("reduce_sum_backward", l);
    expect_close(din_buf.read(what), din, 1e-6f, 1e-6f, what);
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().reduce_sum_backward(p, p, 0, 5, 3, 1.0f);
  EXPECT_EQ(untouched.read("reduce_sum_backward, outer 0"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, ReduceMax) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.r * l.inner, outputs = l.outer * l.inner;
    // Few distinct values, so most maxima are tied: the first one must win.
    for (const bool ties : {true, false}) {
      std::vector<float> in = ties ? random_values(n, -3, 3, n, true) : random_values(n, -8, 8, n);
      if (n > 2 * l.inner) {
        in[0] = NAN;               // a NaN first in its row is the maximum on the CPU
        in[1 + l.inner] = NAN;     // one later in a row is never taken
      }
      const std::string what = describe(std::string("reduce_max") + (ties ? " with ties" : ""), l);
      std::vector<float> expected(outputs);
      std::vector<int32_t> expected_argmax(outputs);
      cpu().reduce_max(expected.data(), expected_argmax.data(), in.data(), l.outer, l.r, l.inner, nullptr);
      GuardedBuffer<float> in_buf(cuda(), in), out(cuda(), outputs, 0.0f);
      GuardedBuffer<int32_t> argmax(cuda(), outputs, -1);
      Workspace ws(cuda(), cuda().reduce_workspace_bytes(l.outer, l.r, l.inner));
      cuda().reduce_max(out.data(), argmax.data(), in_buf.data(), l.outer, l.r, l.inner, ws.data());
      ws.check(what);
      expect_close(out.read(what), expected, 0, 0, what);
      EXPECT_EQ(argmax.read(what), expected_argmax) << what << ": argmax";
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  GuardedBuffer<int32_t> untouched_argmax(cuda(), 1, 7);
  cuda().reduce_max(untouched.data(), untouched_argmax.data(), untouched.data(), 3, 5, 0, nullptr);
  EXPECT_EQ(untouched.read("reduce_max, inner 0"), std::vector<float>{7.0f});
  EXPECT_EQ(untouched_argmax.read("reduce_max, inner 0"), std::vector<int32_t>{7}) << "reduce_max, inner 0";
}

TEST_P(CudaParity, ReduceMaxBackward) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.r * l.inner, outputs = l.outer * l.inner;
    const std::vector<float> in = random_values(n, -8, 8, n);
    std::vector<float> max(outputs);
    std::vector<int32_t> argmax(outputs);
    cpu().reduce_max(max.data(), argmax.data(), in.data(), l.outer, l.r, l.inner, nullptr);
    const std::vector<float> dout = random_values(outputs, -2, 2, n + 1);
    std::vector<float> din = random_values(n, -2, 2, n + 2);
    GuardedBuffer<float> din_buf(cuda(), din), dout_buf(cuda(), dout);
    GuardedBuffer<int32_t> argmax_buf(cuda(), argmax);
    cpu().reduce_max_backward(din.data(), dout.data(), argmax.data(), l.outer, l.r, l.inner);
    cuda().reduce_max_backward(din_buf.data(), dout_buf.data(), argmax_buf.data(), l.outer, l.r, l.inner);
    const std::string what = describe("reduce_max_backward", l);
    expect_close(din_buf.read(what), din, 0, 0, what);
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  GuardedBuffer<int32_t> argmax(cuda(), 1, 0);
  cuda().reduce_max_backward(untouched.data(), untouched.data(), argmax.data(), 0, 5, 3);
  EXPECT_EQ(untouched.read("reduce_max_backward, outer 0"), std::vector<float>{7.0f});
}
