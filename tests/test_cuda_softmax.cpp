// CudaParity for softmax and log-softmax (kernels/cuda/softmax.cu).
//
// Layouts (outer, r, inner) reach each path: a warp per row holding 1, 2, 8 or 32
// values per lane (r = 5, 33, 129, 1000), a block per row (r = 1025, 100003) and a
// thread per column (inner > 1).
//
// Tolerances, per kernel:
// - Softmax: 1e-6 relative + 1e-7 absolute for softmax, whose outputs are exp(x - max)
//   / sum (CUDA's expf is within 2 ulp, not correctly rounded; both sum in double);
//   2e-6 absolute + 1e-6 relative for log-softmax, whose outputs are x - max - log(sum)
//   with |x - max| up to 20, an ulp of which is 1.9e-6.
// - SoftmaxBackward: 1e-6 relative + 1e-6 absolute: FMA contraction in din += ...,
//   and expf for log-softmax.
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct Layout {
  int64_t outer, r, inner;
};

constexpr Layout kLayouts[] = {
    {1, 1, 1},  {7, 5, 1},      {13, 33, 1},  {5, 129, 1}, {3, 1000, 1},
    {2, 1025, 1}, {1, 100003, 1}, {3, 7, 13},  {2, 129, 5},
};

std::string describe(const std::string& what, const Layout& l, bool log) {
  return what + (log ? " (log)" : "") + " (outer " + std::to_string(l.outer) + ", r " + std::to_string(l.r) +
         ", inner " + std::to_string(l.inner) + ")";
}

}  // namespace

TEST_P(CudaParity, Softmax) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.r * l.inner;
    const std::vector<float> in = random_values(n, -10, 10, n);
    GuardedBuffer<float> in_buf(cuda(), in);
    for (const bool log : {false, true}) {
      const std::string what = describe("softmax_forward", l, log);
      std::vector<float> expected(n);
      cpu().softmax_forward(expected.data(), in.data(), l.outer, l.r, l.inner, log);
      GuardedBuffer<float> out(cuda(), n, 0.0f);
      cuda().softmax_forward(out.data(), in_buf.data(), l.outer, l.r, l.inner, log);
      expect_close(out.read(what), expected, log ? 2e-6f : 1e-7f, 1e-6f, what);
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().softmax_forward(p, p, 0, 5, 1, false);
  cuda().softmax_forward(p, p, 3, 5, 0, true);
  EXPECT_EQ(untouched.read("softmax_forward, empty"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, SoftmaxBackward) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.r * l.inner;
    const std::vector<float> in = random_values(n, -10, 10, n), dout = random_values(n, -1, 1, n + 1);
    for (const bool log : {false, true}) {
      std::vector<float> out(n);
      cpu().softmax_forward(out.data(), in.data(), l.outer, l.r, l.inner, log);
      std::vector<float> din = random_values(n, -1, 1, n + 2);  // non-zero: the kernel must add
      GuardedBuffer<float> din_buf(cuda(), din), dout_buf(cuda(), dout), out_buf(cuda(), out);
      cpu().softmax_backward(din.data(), dout.data(), out.data(), l.outer, l.r, l.inner, log);
      cuda().softmax_backward(din_buf.data(), dout_buf.data(), out_buf.data(), l.outer, l.r, l.inner, log);
      const std::string what = describe("softmax_backward", l, log);
      expect_close(din_buf.read(what), din, 1e-6f, 1e-6f, what);
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().softmax_backward(p, p, p, 0, 5, 1, false);
  cuda().softmax_backward(p, p, p, 3, 5, 0, true);
  EXPECT_EQ(untouched.read("softmax_backward, empty"), std::vector<float>{7.0f});
}
