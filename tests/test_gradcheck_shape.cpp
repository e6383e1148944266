// GradCheck.* for shape and indexing ops. Each output element is a copy of one input
// element (sum_to: a short sum), so the output moves by exactly the step x +- kEps
// rounds to, which the harness divides by: the numerical derivative is exact.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// Copies: the numerical side is exact; the analytic one adds up to 3 float weights
// (repeated indices), a few ulps of a sum of magnitude <= 10.
constexpr Tolerance kCopy{1e-5, 1e-6};

// sum_to adds up to 24 values (|sum| <= ~5): 1 ulp of the sum (5e-7) / (2 kEps) is
// 2.5e-4 |w| of noise.
constexpr Tolerance kSum{1e-3, 1e-4};

}  // namespace

TEST(GradCheck, Reshape) {
  check_gradients("reshape (2,3,4) -> (4,-1)", [](const std::vector<Tensor>& in) { return reshape(in[0], {4, -1}); },
                  {{uniform({2, 3, 4}, 1)}}, kCopy);
  check_gradients("reshape (2,3) -> (6)", [](const std::vector<Tensor>& in) { return reshape(in[0], {6}); },
                  {{uniform({2, 3}, 2)}}, kCopy);
}

TEST(GradCheck, Flatten) {
  check_gradients("flatten (2,3,2,2) from 1", [](const std::vector<Tensor>& in) { return flatten(in[0]); },
                  {{uniform({2, 3, 2, 2}, 1)}}, kCopy);
  check_gradients("flatten (2,3,2,2) from 2", [](const std::vector<Tensor>& in) { return flatten(in[0], 2); },
                  {{uniform({2, 3, 2, 2}, 2)}}, kCopy);
}

TEST(GradCheck, Permute) {
  check_gradients("permute (2,3,4) {2,0,1}", [](const std::vector<Tensor>& in) { return permute(in[0], {2, 0, 1}); },
                  {{uniform({2, 3, 4}, 1)}}, kCopy);
  check_gradients("permute (2,3,2,5) {0,2,3,1}",
                  [](const std::vector<Tensor>& in) { return permute(in[0], {0, 2, 3, 1}); },
                  {{uniform({2, 3, 2, 5}, 2)}}, kCopy);
}

TEST(GradCheck, Transpose) {
  check_gradients("transpose (3,5) 0,1", [](const std::vector<Tensor>& in) { return transpose(in[0], 0, 1); },
                  {{uniform({3, 5}, 1)}}, kCopy);
  check_gradients("transpose (2,3,4) 0,-1", [](const std::vector<Tensor>& in) { return transpose(in[0], 0, -1); },
                  {{uniform({2, 3, 4}, 2)}}, kCopy);
}

TEST(GradCheck, Concat) {
  check_gradients("concat dim 0", [](const std::vector<Tensor>& in) { return concat(in, 0); },
                  {{uniform({2, 3}, 1)}, {uniform({1, 3}, 2)}, {uniform({3, 3}, 3)}}, kCopy);
  check_gradients("concat dim 1", [](const std::vector<Tensor>& in) { return concat(in, 1); },
                  {{uniform({2, 1, 3}, 4)}, {uniform({2, 2, 3}, 5)}, {uniform({2, 3, 3}, 6)}}, kCopy);
  // A fixed piece in the middle: the pieces around it still get theirs.
  check_gradients("concat dim -1 with a fixed piece", [](const std::vector<Tensor>& in) { return concat(in, -1); },
                  {{uniform({2, 2}, 7)}, {uniform({2, 3}, 8), false}, {uniform({2, 1}, 9)}}, kCopy);
}

TEST(GradCheck, Narrow) {
  // Dim 0 is a view of the input's storage; other dims copy.
  check_gradients("narrow dim 0 [1, 3)", [](const std::vector<Tensor>& in) { return narrow(in[0], 0, 1, 2); },
                  {{uniform({4, 3}, 1)}}, kCopy);
  check_gradients("narrow dim 1 [2, 5)", [](const std::vector<Tensor>& in) { return narrow(in[0], 1, 2, 3); },
                  {{uniform({2, 6, 3}, 2)}}, kCopy);
  check_gradients("narrow dim -1 [0, 1)", [](const std::vector<Tensor>& in) { return narrow(in[0], -1, 0, 1); },
                  {{uniform({2, 3, 4}, 3)}}, kCopy);
}

TEST(GradCheck, IndexSelect) {
  // Repeated indices: their gradients add up in one row.
  check_gradients("index_select dim 1 {2,0,2,3,2}",
                  [](const std::vector<Tensor>& in) { return index_select(in[0], 1, {2, 0, 2, 3, 2}); },
                  {{uniform({3, 4, 2}, 1)}}, kCopy);
  check_gradients("index_select dim 0 {1,1,0}",
                  [](const std::vector<Tensor>& in) { return index_select(in[0], 0, {1, 1, 0}); },
                  {{uniform({3, 4}, 2)}}, kCopy);
}

TEST(GradCheck, SumTo) {
  check_gradients("sum_to (2,3,4) -> (3,1)", [](const std::vector<Tensor>& in) { return sum_to(in[0], {3, 1}); },
                  {{uniform({2, 3, 4}, 1)}}, kSum);
  check_gradients("sum_to (2,3,4) -> (4)", [](const std::vector<Tensor>& in) { return sum_to(in[0], {4}); },
                  {{uniform({2, 3, 4}, 2)}}, kSum);
  check_gradients("sum_to (2,1,4) -> (1,1,4)", [](const std::vector<Tensor>& in) { return sum_to(in[0], {1, 1, 4}); },
                  {{uniform({2, 1, 4}, 3)}}, kSum);
  check_gradients("sum_to (2,3,4) -> []", [](const std::vector<Tensor>& in) { return sum_to(in[0], Shape{}); },
                  {{uniform({2, 3, 4}, 4)}}, kSum);
}
