// CudaParity for the backend's memory functions.
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

TEST_P(CudaParity, MemoryRoundTrip) {
  const std::vector<float> values = random_values(1000, -5, 5, 1);
  GuardedBuffer<float> a(cuda(), values), b(cuda(), 1000, 0.0f);
  cuda().copy(b.data(), a.data(), sizeof(float) * 1000);
  cuda().synchronize();
  EXPECT_EQ(b.read("copy"), values);
  EXPECT_EQ(cuda().alloc(size_t{1} << 62), nullptr);  // out of memory is a null pointer, not a crash
}
