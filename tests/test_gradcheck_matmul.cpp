// GradCheck.* for matmul and linear, at odd sizes (no dimension a multiple of a tile).
// An output element is a K-term dot product, so its float rounding grows to about
// sqrt(K) ulps; with K = 5..7 and outputs of O(1) that is ~1e-4 in the numerical
// derivative, which sums over the N outputs each input element feeds.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// An input element feeds N <= 4 outputs of O(1): rounding noise ~4 * 1.5e-4.
constexpr Tolerance kMatmul{1e-3, 1e-4};

}  // namespace

TEST(GradCheck, Matmul) {
  const OpUnderTest op = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  check_gradients("matmul (3,5)x(5,4)", op, {{uniform({3, 5}, 1)}, {uniform({5, 4}, 2)}}, kMatmul);
  check_gradients("matmul (1,7)x(7,1)", op, {{uniform({1, 7}, 3)}, {uniform({7, 1}, 4)}}, kMatmul);
  check_gradients("matmul (2,3,5)x(2,5,4)", op, {{uniform({2, 3, 5}, 5)}, {uniform({2, 5, 4}, 6)}}, kMatmul);
  // B shared by the batch: its gradient sums over all B*M rows.
  check_gradients("matmul (2,3,5)x(5,4)", op, {{uniform({2, 3, 5}, 7)}, {uniform({5, 4}, 8)}}, kMatmul);
}

TEST(GradCheck, Linear) {
  check_gradients("linear (4,5) with bias",
                  [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                  {{uniform({4, 5}, 1)}, {uniform({3, 5}, 2)}, {uniform({3}, 3)}}, kMatmul);
  check_gradients("linear (4,5) without bias", [](const std::vector<Tensor>& in) { return linear(in[0], in[1]); },
                  {{uniform({4, 5}, 4)}, {uniform({3, 5}, 5)}}, kMatmul);
  check_gradients("linear (2,3,5) with bias",
                  [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                  {{uniform({2, 3, 5}, 6)}, {uniform({3, 5}, 7)}, {uniform({3}, 8)}}, kMatmul);
}
