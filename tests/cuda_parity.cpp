#include "tests/cuda_parity.h"

#include <random>

namespace cfgan::testing {

void CudaParity::SetUp() {
  if (GetParam() == CudaTarget::emulated) {
    cuda_ = &cuda_emu::kernels();
    return;
  }
#if defined(CFGAN_HAVE_CUDA)
  if (cuda::device_count() > 0) {
    cuda_ = &cuda::kernels();
    return;
  }
  GTEST_SKIP() << "no CUDA GPU on this machine: the device variant of this test runs where there is one";
#else
  GTEST_SKIP() << "this build has no CUDA backend (no nvcc at configure time): only the emulated variant runs";
#endif
}

INSTANTIATE_TEST_SUITE_P(Backend, CudaParity, ::testing::Values(CudaTarget::emulated, CudaTarget::device),
                         [](const ::testing::TestParamInfo<CudaTarget>& info) {
                           return info.param == CudaTarget::emulated ? "emulated" : "device";
                         });

void expect_close(const std::vector<float>& cuda, const std::vector<float>& cpu, float atol, float rtol,
                  const std::string& what) {
  ASSERT_EQ(cuda.size(), cpu.size()) << what;
  double worst = -1;
  size_t at = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    double excess;
    if (std::isnan(cpu[i]) || std::isnan(cuda[i])) {
      excess = std::isnan(cpu[i]) && std::isnan(cuda[i]) ? -1.0 : INFINITY;
    } else {
      excess = std::fabs(double(cuda[i]) - cpu[i]) - (atol + rtol * std::fabs(cpu[i]));
    }
    if (excess > worst) worst = excess, at = i;
  }
  EXPECT_LE(worst, 0.0) << what << ": element " << at << " is " << cuda[at] << " on CUDA, " << cpu[at]
                        << " on the CPU (atol " << atol << ", rtol " << rtol << ", " << cpu.size() << " elements)";
}

std::vector<float> random_values(int64_t n, float lo, float hi, uint64_t seed, bool integers) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  if (integers) {
    std::uniform_int_distribution<int> dist(static_cast<int>(lo), static_cast<int>(hi));
    for (float& x : v) x = static_cast<float>(dist(rng));
  } else {
    std::uniform_real_distribution<float> dist(lo, hi);
    for (float& x : v) x = dist(rng);
  }
  return v;
}

}  // namespace cfgan::testing
