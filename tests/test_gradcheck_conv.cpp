// GradCheck.Conv2d / ConvTranspose2d over stride {1, 2} x padding {0, 1} x kernel {3, 4}
// x bias {with, without}, on odd 5x7 inputs with 3 input and 2 output channels, so
// windows hang over the padding and stride-2 windows skip the last rows / columns.
#include <gtest/gtest.h>

#include "engine/error.h"
#include "engine/ops.h"
#include "tests/gradcheck.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

// An output (|y| ~ 2) sums C*R*S <= 48 products: its float rounding is ~sqrt(48) / 2
// ulps ~ 1e-6, i.e. ~5e-4 |w| in the numerical derivative, and a weight element feeds
// N*P*Q <= 70 outputs: ~sqrt(70) * 5e-4 ~ 4e-3. (Observed worst: 1.7e-3.)
constexpr Tolerance kConv{4e-3, 1e-4};

struct ConvCase {
  int64_t stride, padding, kernel;
  bool bias;
  int64_t output_padding = 0;
};

std::vector<ConvCase> all_cases() {
  std::vector<ConvCase> cases;
  for (int64_t stride : {1, 2}) {
    for (int64_t padding : {0, 1}) {
      for (int64_t kernel : {3, 4}) {
        for (bool bias : {true, false}) cases.push_back({stride, padding, kernel, bias});
      }
    }
  }
  return cases;
}

std::string describe(const char* op, const ConvCase& c) {
  return cat(op, " stride ", c.stride, " padding ", c.padding, " kernel ", c.kernel, " output_padding ",
             c.output_padding, c.bias ? " with bias" : " without bias");
}

}  // namespace

TEST(GradCheck, Conv2d) {
  uint64_t seed = 1;
  for (const ConvCase& c : all_cases()) {
    const Conv2dOptions opt{.stride = c.stride, .padding = c.padding};
    std::vector<GradInput> inputs{{uniform({2, 3, 5, 7}, seed++)}, {uniform({2, 3, c.kernel, c.kernel}, seed++)}};
    if (c.bias) inputs.push_back({uniform({2}, seed++)});
    check_gradients(describe("conv2d", c),
                    [opt](const std::vector<Tensor>& in) {
                      return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
                    },
                    inputs, kConv);
  }
}

TEST(GradCheck, ConvTranspose2d) {
  std::vector<ConvCase> cases = all_cases();
  cases.push_back({2, 1, 4, true, 1});  // output_padding: one more output row and column
  cases.push_back({2, 0, 3, false, 1});
  uint64_t seed = 1;
  for (const ConvCase& c : cases) {
    const Conv2dOptions opt{.stride = c.stride, .padding = c.padding, .output_padding = c.output_padding};
    // weight (C_in, C_out, R, S), PyTorch's layout.
    std::vector<GradInput> inputs{{uniform({2, 3, 5, 7}, seed++)}, {uniform({3, 2, c.kernel, c.kernel}, seed++)}};
    if (c.bias) inputs.push_back({uniform({2}, seed++)});
    check_gradients(describe("conv_transpose2d", c),
                    [opt](const std::vector<Tensor>& in) {
                      return conv_transpose2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
                    },
                    inputs, kConv);
  }
}
