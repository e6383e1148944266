// kernels/emu/example.cu, compiled the emulated way: the same source nvcc builds for
// the device (see the file's header), included with CFGAN_CUDA_EMU defined.
#include <gtest/gtest.h>

#include <vector>

#define CFGAN_CUDA_EMU
#include "kernels/emu/example.cu"

namespace cfgan::cuda_emu {
namespace {

TEST(Emu, ExampleKernels) {
  for (int64_t n : {1, 5, 256, 1000, 300001}) {
    std::vector<float> x(n), y(n, 1.0f);
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 9 - 4);
    example_axpy(y.data(), 2.0f, x.data(), n, nullptr);
    float expected = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], 2.0f * x[i] + 1.0f) << i;
      expected += y[i];
    }
    float* sum = nullptr;
    ASSERT_EQ(cudaMalloc(&sum, sizeof(float)), cudaSuccess);
    example_sum(sum, y.data(), n, nullptr);
    EXPECT_EQ(*sum, expected) << n;  // integer values: exact in any order
    cudaFree(sum);
  }
}

}  // namespace
}  // namespace cfgan::cuda_emu
