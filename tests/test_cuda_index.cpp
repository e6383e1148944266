// CudaParity for index_select (kernels/cuda/index.cu).
//
// Cases (outer, dim, inner, indices) reach the scalar and float4 gathers (also from
// an output off a 16-byte boundary), and both backward schemes: the deterministic one
// (up to 4096 indices) with indices repeated many times, and the atomic one beyond.
//
// Tolerances, per kernel:
// - IndexSelect: exact (copies).
// - IndexSelectBackward: exact. Up to 4096 indices the CUDA kernel adds the rows of a
//   repeated index in the CPU's order; beyond, atomics add in any order, so that case
//   uses integer-valued gradients, whose sums are exact in any order.
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct IndexCase {
  int64_t outer, dim, inner, n_idx;
};

constexpr IndexCase kCases[] = {
    {1, 1, 1, 1},      // one element
    {3, 7, 5, 4},      // scalar gather
    {2, 13, 8, 129},   // float4 gather, indices repeated ~10 times
    {1, 10, 100, 64},  // an embedding: a batch of labels
    {129, 13, 1, 3},   // along the last dim
    {5, 3, 129, 7},
    {2, 50, 3, 5000},  // past the deterministic limit: atomics
};

// n_idx indices in [0, dim); the first ones pin the ends of the range.
std::vector<int32_t> indices_for(const IndexCase& c) {
  const std::vector<float> u = random_values(c.n_idx, 0, static_cast<float>(c.dim) - 1, c.n_idx * c.dim, true);
  std::vector<int32_t> idx(u.begin(), u.end());
  idx[0] = static_cast<int32_t>(c.dim) - 1;
  if (c.n_idx > 1) idx[1] = 0;
  return idx;
}

std::string describe(const std::string& what, const IndexCase& c) {
  return what + " (outer " + std::to_string(c.outer) + ", dim " + std::to_string(c.dim) + ", inner " +
         std::to_string(c.inner) + ", " + std::to_string(c.n_idx) + " indices)";
}

}  // namespace

TEST_P(CudaParity, IndexSelect) {
  for (const IndexCase& c : kCases) {
    const std::vector<int32_t> idx = indices_for(c);
    const std::vector<float> in = random_values(c.outer * c.dim * c.inner, -4, 4, c.n_idx);
    const int64_t n = c.outer * c.n_idx * c.inner;
    for (const int shift : {0, 1}) {
      std::vector<float> expected(n + shift, 0.0f);
      cpu().index_select_forward(expected.data() + shift, in.data(), idx.data(), c.n_idx, c.outer, c.dim, c.inner);
      GuardedBuffer<float> out(cuda(), n + shift, 0.0f), in_buf(cuda(), in);
      GuardedBuffer<int32_t> idx_buf(cuda(), idx);
      cuda().index_select_forward(out.data() + shift, in_buf.data(), idx_buf.data(), c.n_idx, c.outer, c.dim, c.inner);
      const std::string what = describe("index_select_forward, shift " + std::to_string(shift), c);
      expect_close(out.read(what), expected, 0, 0, what);
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  GuardedBuffer<int32_t> idx(cuda(), 1, 0);
  cuda().index_select_forward(untouched.data(), untouched.data(), idx.data(), 0, 3, 1, 5);
  EXPECT_EQ(untouched.read("index_select_forward, no indices"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, IndexSelectBackward) {
  for (const IndexCase& c : kCases) {
    const std::vector<int32_t> idx = indices_for(c);
    const bool atomic = c.n_idx > 4096;
    const std::vector<float> dout = random_values(c.outer * c.n_idx * c.inner, -8, 8, c.n_idx, atomic);
    std::vector<float> din = random_values(c.outer * c.dim * c.inner, -8, 8, c.n_idx + 1, atomic);  // must add
    GuardedBuffer<float> din_buf(cuda(), din), dout_buf(cuda(), dout);
    GuardedBuffer<int32_t> idx_buf(cuda(), idx);
    cpu().index_select_backward(din.data(), dout.data(), idx.data(), c.n_idx, c.outer, c.dim, c.inner);
    cuda().index_select_backward(din_buf.data(), dout_buf.data(), idx_buf.data(), c.n_idx, c.outer, c.dim, c.inner);
    const std::string what = describe("index_select_backward", c);
    expect_close(din_buf.read(what), din, 0, 0, what);
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  GuardedBuffer<int32_t> idx(cuda(), 1, 0);
  cuda().index_select_backward(untouched.data(), untouched.data(), idx.data(), 0, 3, 1, 5);
  EXPECT_EQ(untouched.read("index_select_backward, no indices"), std::vector<float>{7.0f});
}
