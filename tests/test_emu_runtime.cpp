// The emulator's atomics, vector types and runtime stand-ins (memory, streams,
// events, errors, device count).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#define CFGAN_CUDA_EMU
#include "kernels/cuda/launch.cuh"

namespace cfgan::cuda_emu {
namespace {

// Every thread of many blocks (run on several OS threads) hits the same counters.
__global__ void contended_add_kernel(int* int_sum, float* float_sum, unsigned* unsigned_sum, int* olds) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  olds[t] = atomicAdd(int_sum, 1);
  atomicAdd(float_sum, static_cast<float>(t % 5));
  atomicAdd(unsigned_sum, 2u);
}

TEST(Emu, AtomicAddUnderContention) {
  const int blocks = 256, threads = 256, n = blocks * threads;
  int int_sum = 0;
  float float_sum = 0.0f;
  unsigned unsigned_sum = 0;
  std::vector<int> olds(n, -1);
  CFGAN_LAUNCH(contended_add_kernel, blocks, threads, 0, nullptr, &int_sum, &float_sum, &unsigned_sum, olds.data());
  EXPECT_EQ(int_sum, n);
  EXPECT_EQ(unsigned_sum, 2u * n);
  float expected = 0.0f;  // integer-valued, far below 2^24: exact in any order
  for (int t = 0; t < n; ++t) expected += static_cast<float>(t % 5);
  EXPECT_EQ(float_sum, expected);
  std::sort(olds.begin(), olds.end());  // each old value handed out exactly once
  for (int t = 0; t < n; ++t) ASSERT_EQ(olds[t], t);
}

__global__ void atomic_max_kernel(int* max_value, int n) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (t < n) atomicMax(max_value, (t * 7919) % 10007 - 5000);
}

TEST(Emu, AtomicMax) {
  const int n = 20000;
  int max_value = -1000000;
  CFGAN_LAUNCH(atomic_max_kernel, (n + 127) / 128, 128, 0, nullptr, &max_value, n);
  int expected = -1000000;
  for (int t = 0; t < n; ++t) expected = std::max(expected, (t * 7919) % 10007 - 5000);
  EXPECT_EQ(max_value, expected);
}

// The classic compare-and-swap retry loop, here a float add done on the bits (the
// way kernels build atomics the hardware lacks), and atomicExch handing out values.
__global__ void cas_loop_kernel(float* sum, int* slot, int* taken) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  int* bits = reinterpret_cast<int*>(sum);
  int old = *bits, assumed;
  do {
    assumed = old;
    old = atomicCAS(bits, assumed, __float_as_int(__int_as_float(assumed) + 1.0f));
  } while (old != assumed);
  taken[t] = atomicExch(slot, t);
}

TEST(Emu, AtomicCasLoopAndExch) {
  const int blocks = 64, threads = 128, n = blocks * threads;
  float sum = 0.0f;
  int slot = -1;
  std::vector<int> taken(n);
  CFGAN_LAUNCH(cas_loop_kernel, blocks, threads, 0, nullptr, &sum, &slot, taken.data());
  EXPECT_EQ(sum, static_cast<float>(n));
  taken.push_back(slot);  // the values handed out plus the last one stored: -1, 0 .. n-1
  std::sort(taken.begin(), taken.end());
  for (int i = 0; i <= n; ++i) ASSERT_EQ(taken[i], i - 1);
}

__global__ void float4_kernel(float4* out, const float* in, int n4) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n4) return;
  const float4 v = reinterpret_cast<const float4*>(in)[i];
  out[i] = make_float4(v.w, v.z, v.y, v.x + fmaxf(v.y, v.z));
}

TEST(Emu, Float4Loads) {
  static_assert(alignof(float4) == 16 && sizeof(float4) == 16);
  const int n4 = 50;
  float *in = nullptr, *out = nullptr;
  ASSERT_EQ(cudaMalloc(&in, 4 * n4 * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&out, 4 * n4 * sizeof(float)), cudaSuccess);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(in) % 256, 0u);
  std::vector<float> host(4 * n4);
  for (int i = 0; i < 4 * n4; ++i) host[i] = static_cast<float>(i);
  cudaMemcpy(in, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice);
  CFGAN_LAUNCH(float4_kernel, 2, 32, 0, nullptr, reinterpret_cast<float4*>(out), in, n4);
  std::vector<float> result(4 * n4);
  cudaMemcpy(result.data(), out, result.size() * sizeof(float), cudaMemcpyDeviceToHost);
  for (int i = 0; i < n4; ++i) {
    const float* v = &host[4 * i];
    ASSERT_EQ(result[4 * i + 0], v[3]);
    ASSERT_EQ(result[4 * i + 1], v[2]);
    ASSERT_EQ(result[4 * i + 2], v[1]);
    ASSERT_EQ(result[4 * i + 3], v[0] + std::max(v[1], v[2]));
  }
  EXPECT_EQ(cudaFree(in), cudaSuccess);
  EXPECT_EQ(cudaFree(out), cudaSuccess);
}

TEST(Emu, MemoryStandIns) {
  float* a = nullptr;
  float* b = nullptr;
  ASSERT_EQ(cudaMalloc(&a, 16 * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&b), 16 * sizeof(float)), cudaSuccess);
  EXPECT_TRUE(std::isnan(a[3])) << "new device memory is filled with NaN, not zeros";
  EXPECT_EQ(cudaMemset(a, 0, 16 * sizeof(float)), cudaSuccess);
  EXPECT_EQ(a[15], 0.0f);
  std::vector<float> host(16);
  for (int i = 0; i < 16; ++i) host[i] = 0.5f * static_cast<float>(i);
  EXPECT_EQ(cudaMemcpyAsync(a, host.data(), 16 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(b, a, 16 * sizeof(float), cudaMemcpyDeviceToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemsetAsync(b, 0, 4 * sizeof(float)), cudaSuccess);
  std::vector<float> back(16, -1.0f);
  EXPECT_EQ(cudaMemcpy(back.data(), b, 16 * sizeof(float), cudaMemcpyDefault), cudaSuccess);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(back[i], i < 4 ? 0.0f : host[i]);

  void* empty = &back;
  EXPECT_EQ(cudaMalloc(&empty, 0), cudaSuccess);
  EXPECT_EQ(empty, nullptr);
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);

  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(b, a, 4, static_cast<cudaMemcpyKind>(7)), cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_STREQ(cudaGetErrorString(cudaErrorMemoryAllocation), "out of memory");
  EXPECT_STREQ(cudaGetErrorString(cudaSuccess), "no error");
  cudaFree(a);
  cudaFree(b);
}

__global__ void fill_kernel(float* out, float value, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = value;
}

TEST(Emu, StreamsAndEvents) {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  float ms = -1.0f;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaErrorInvalidResourceHandle);  // not recorded yet
  cudaGetLastError();

  std::vector<float> out(1000, 0.0f);
  EXPECT_EQ(cudaEventRecord(start, stream), cudaSuccess);
  CFGAN_LAUNCH(fill_kernel, 4, 256, 0, stream, out.data(), 2.5f, 1000);
  EXPECT_EQ(cudaEventRecord(stop, stream), cudaSuccess);
  EXPECT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(out[999], 2.5f);  // the launch finished before it returned
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 0.0f);

  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(stop), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(Emu, ReportsOneDevice) {
  int count = 0;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 1);
}

TEST(Emu, IntrinsicsMatchTheirDefinitions) {
  // Against the mathematical values (not the C library the emulator calls), within the
  // error CUDA documents for the fast intrinsics (2 ulp).
  EXPECT_EQ(__int_as_float(0x3f800000), 1.0f);
  EXPECT_EQ(__float_as_int(-2.0f), static_cast<int>(0xc0000000u));
  EXPECT_EQ(rsqrtf(4.0f), 0.5f);
  EXPECT_NEAR(__expf(1.0f), 2.718281828459045, 2 * 2.4e-7);
  EXPECT_NEAR(__expf(-3.0f), 0.049787068367864, 2 * 3.8e-9);
  EXPECT_NEAR(__logf(2.0f), 0.693147180559945, 2 * 6.0e-8);
  EXPECT_EQ(__fdividef(1.0f, 4.0f), 0.25f);
  EXPECT_EQ(__fmaf_rn(2.0f, 3.0f, 1.0f), 7.0f);
  // Fused: (1 + 2^-23)^2 - (1 + 2^-22) is 2^-46 exactly; a rounded product would give 0.
  const float a = 1.0f + 0x1p-23f;
  EXPECT_EQ(__fmaf_rn(a, a, -(1.0f + 0x1p-22f)), 0x1p-46f);
  EXPECT_EQ(min(3, -4), -4);
  EXPECT_EQ(max(int64_t{3}, int64_t{5}), 5);
  EXPECT_EQ(max(2.0f, -1.0f), 2.0f);
  const float value = 1.5f;
  EXPECT_EQ(__ldg(&value), 1.5f);
}

}  // namespace
}  // namespace cfgan::cuda_emu
