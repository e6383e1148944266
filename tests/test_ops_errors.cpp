// OpErrors.*: a shape error names the op and every shape involved (DESIGN.md: errors
// name the input and what was expected), checked on the text of Error::what().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"

using namespace cfgan;

namespace {

// Runs f, which must throw an Error, and checks that its message contains every part.
template <typename F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& part : parts) {
      EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    }
    return;
  }
  ADD_FAILURE() << "expected an Error";
}

}  // namespace

TEST(OpErrors, AddBroadcastFailureNamesBothShapes) {
  expect_error([] { add(Tensor::zeros({2, 3}), Tensor::zeros({4})); }, {"add", "[2, 3]", "[4]"});
  expect_error([] { mul(Tensor::zeros({2, 1, 5}), Tensor::zeros({3, 4})); }, {"mul", "[2, 1, 5]", "[3, 4]"});
}

TEST(OpErrors, MatmulInnerDimensionsNameBothShapes) {
  expect_error([] { matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  expect_error([] { matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})); },
               {"matmul", "[2, 3, 4]", "[3, 4, 5]"});
  expect_error([] { matmul(Tensor::zeros({3}), Tensor::zeros({3, 4})); }, {"matmul", "[3]", "[3, 4]"});
}

TEST(OpErrors, Conv2dChannelMismatchNamesBothShapes) {
  expect_error([] { conv2d(Tensor::zeros({1, 3, 5, 5}), Tensor::zeros({2, 1, 3, 3})); },
               {"conv2d", "[1, 3, 5, 5]", "[2, 1, 3, 3]", "3 channels", "expects 1"});
  expect_error([] { conv_transpose2d(Tensor::zeros({1, 3, 5, 5}), Tensor::zeros({2, 4, 3, 3})); },
               {"conv_transpose2d", "[1, 3, 5, 5]", "[2, 4, 3, 3]"});
  expect_error([] { conv2d(Tensor::zeros({1, 3, 5, 5}), Tensor::zeros({2, 3, 3, 3}), Tensor::zeros({3})); },
               {"conv2d", "bias", "[3]", "[2, 3, 3, 3]"});
}

TEST(OpErrors, LinearFeaturesNameBothShapes) {
  expect_error([] { linear(Tensor::zeros({2, 4}), Tensor::zeros({3, 5})); },
               {"linear", "[2, 4]", "[3, 5]", "4 features", "expects 5"});
  expect_error([] { linear(Tensor::zeros({2, 5}), Tensor::zeros({3, 5}), Tensor::zeros({4})); },
               {"linear", "bias", "[4]", "[3, 5]"});
}

TEST(OpErrors, ConcatNamesBothShapes) {
  expect_error([] { concat({Tensor::zeros({2, 3}), Tensor::zeros({2, 4})}, 0); }, {"concat", "[2, 3]", "[2, 4]"});
  expect_error([] { concat({Tensor::zeros({2, 3}), Tensor::zeros({2, 3, 1})}, 1); },
               {"concat", "[2, 3]", "[2, 3, 1]"});
}

TEST(OpErrors, CrossEntropyBadLabelNamesLabelAndClasses) {
  expect_error([] { cross_entropy(Tensor::zeros({2, 3}), {0, 5}); }, {"cross_entropy", "label 5", "row 1", "3"});
  expect_error([] { cross_entropy(Tensor::zeros({2, 3}), {0, -1}); }, {"cross_entropy", "label -1"});
  expect_error([] { cross_entropy(Tensor::zeros({2, 3}), {0}); }, {"cross_entropy", "1 labels", "[2, 3]"});
}

TEST(OpErrors, IndexSelectBadIndexNamesIndexAndShape) {
  expect_error([] { index_select(Tensor::zeros({3, 2}), 0, {1, 7}); }, {"index_select", "index 7", "[3, 2]"});
  expect_error([] { embedding(Tensor::zeros({4, 2}), {-1}); }, {"index_select", "index -1", "[4, 2]"});
}

TEST(OpErrors, LossShapeMismatchNamesBothShapes) {
  expect_error([] { mse_loss(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})); }, {"mse_loss", "[2, 3]", "[3, 2]"});
  expect_error([] { bce_with_logits(Tensor::zeros({4}), Tensor::zeros({4, 1})); },
               {"bce_with_logits", "[4]", "[4, 1]"});
}

TEST(OpErrors, ReshapeNamesBothShapes) {
  expect_error([] { reshape(Tensor::zeros({2, 3}), {4}); }, {"reshape", "[2, 3]", "[4]"});
  expect_error([] { reshape(Tensor::zeros({2, 3}), {4, -1}); }, {"reshape", "[2, 3]", "[4, -1]"});
  expect_error([] { reshape(Tensor::zeros({2, 3}), {-1, -1}); }, {"reshape", "[-1, -1]"});
}

TEST(OpErrors, BatchNormParameterShapeNamesBothShapes) {
  expect_error([] { batch_norm(Tensor::zeros({4, 3}), Tensor::ones({2}), Tensor(), Tensor(), Tensor(), true); },
               {"batch_norm", "[2]", "[4, 3]"});
}
