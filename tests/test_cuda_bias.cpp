// CudaParity for the per-channel bias kernels (kernels/cuda/bias.cu).
//
// Layouts (outer, C, inner) reach each path: bias_add's scalar loop, float4 rows
// (inner % 4 == 0) and float4 channels (inner == 1, C % 4 == 0), also from an output
// off a 16-byte boundary; bias_backward's column tiles (inner == 1) and per-channel
// blocks with the batch split over blocks.
//
// Tolerances, per kernel:
// - BiasAdd: exact (one add per element).
// - BiasBackward: exact on integer-valued gradients (every partial sum is an exact
//   integer, whatever the order); on real ones 1e-5 relative + 1e-5 absolute, since the
//   CPU rounds each row's sum to float before adding it in double and CUDA does not.
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct Layout {
  int64_t outer, channels, inner;
};

constexpr Layout kLayouts[] = {
    {1, 1, 1},       {7, 5, 1},     {3, 8, 1},      {64, 129, 1},  {3000, 33, 1}, {2, 3, 12},
    {5, 13, 7},      {4, 64, 100},  {64, 3, 16},    {2, 3, 16384}, {3, 2, 4099},
};

std::string describe(const std::string& what, const Layout& l) {
  return what + " (outer " + std::to_string(l.outer) + ", channels " + std::to_string(l.channels) + ", inner " +
         std::to_string(l.inner) + ")";
}

}  // namespace

TEST_P(CudaParity, BiasAdd) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.channels * l.inner;
    const std::vector<float> bias = random_values(l.channels, -2, 2, n);
    // shift 1 puts the output off a 16-byte boundary: the scalar path must take it.
    for (const int shift : {0, 1}) {
      std::vector<float> out = random_values(n + shift, -2, 2, n + 1);
      GuardedBuffer<float> out_buf(cuda(), out), bias_buf(cuda(), bias);
      cpu().bias_add(out.data() + shift, bias.data(), l.outer, l.channels, l.inner);
      cuda().bias_add(out_buf.data() + shift, bias_buf.data(), l.outer, l.channels, l.inner);
      const std::string what = describe("bias_add, shift " + std::to_string(shift), l);
      expect_close(out_buf.read(what), out, 0, 0, what);
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().bias_add(p, p, 0, 1, 3);
  EXPECT_EQ(untouched.read("bias_add, outer 0"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, BiasBackward) {
  for (const Layout& l : kLayouts) {
    const int64_t n = l.outer * l.channels * l.inner;
    for (const bool integers : {true, false}) {
      const std::vector<float> dout = random_values(n, -8, 8, n, integers);
      std::vector<float> dbias = random_values(l.channels, -8, 8, n + 1, true);  // non-zero: the kernel must add
      GuardedBuffer<float> dbias_buf(cuda(), dbias), dout_buf(cuda(), dout);
      cpu().bias_backward(dbias.data(), dout.data(), l.outer, l.channels, l.inner, nullptr);
      Workspace ws(cuda(), cuda().bias_backward_workspace_bytes(l.outer, l.channels, l.inner));
      cuda().bias_backward(dbias_buf.data(), dout_buf.data(), l.outer, l.channels, l.inner, ws.data());
      const std::string what = describe(std::string("bias_backward, ") + (integers ? "integers" : "reals"), l);
      ws.check(what);
      const float tolerance = integers ? 0.0f : 1e-5f;
      expect_close(dbias_buf.read(what), dbias, tolerance, tolerance, what);
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().bias_backward(p, p, 0, 1, 3, nullptr);
  cuda().bias_backward(p, p, 0, 1, 1, nullptr);
  EXPECT_EQ(untouched.read("bias_backward, outer 0"), std::vector<float>{7.0f});
}
