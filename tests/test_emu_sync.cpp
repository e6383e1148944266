// The emulator's block semantics: barriers, static and dynamic shared memory, index
// built-ins, launch checks, and divergence reported as an error naming the kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#define CFGAN_CUDA_EMU
#include "kernels/cuda/launch.cuh"

namespace cfgan::cuda_emu {
namespace {

// Each phase every thread writes its slot, then reads another thread's slot of the
// same phase: wrong reads are counted per thread. A barrier that let a thread through
// early, or one missing between phases, shows up as a count.
__global__ void barrier_phases_kernel(int* wrong_reads, int phases) {
  __shared__ int slots[1024];
  const int n = static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
  const int t = static_cast<int>(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
  int wrong = 0;
  for (int phase = 0; phase < phases; ++phase) {
    slots[t] = phase * 10000 + t;
    __syncthreads();
    const int other = (t + 7 * phase + 1) % n;
    if (slots[other] != phase * 10000 + other) ++wrong;
    __syncthreads();
  }
  wrong_reads[blockIdx.x * n + t] = wrong;
}

TEST(Emu, BarrierOrdersPhases) {
  for (dim3 block : {dim3(1), dim3(75), dim3(256), dim3(7, 5, 3), dim3(32, 32)}) {
    const int n = static_cast<int>(block.x * block.y * block.z);
    std::vector<int> wrong(3 * n, -1);
    CFGAN_LAUNCH(barrier_phases_kernel, 3, block, 0, nullptr, wrong.data(), 5);
    EXPECT_EQ(std::accumulate(wrong.begin(), wrong.end(), 0), 0) << n << " threads";
  }
}

// Tree reduction for any block size: at each step the upper half (rounded down) folds
// into the lower half.
__device__ void tree_reduce(float* partial) {
  const unsigned t = threadIdx.x;
  for (unsigned active = blockDim.x; active > 1;) {
    const unsigned half = (active + 1) / 2;
    if (t < active - half) partial[t] += partial[t + half];
    __syncthreads();
    active = half;
  }
}

__global__ void static_shared_sum_kernel(float* block_sums, const float* x, int n) {
  __shared__ float partial[512];
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  partial[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  tree_reduce(partial);
  if (threadIdx.x == 0) block_sums[blockIdx.x] = partial[0];
}

__global__ void dynamic_shared_sum_kernel(float* block_sums, const float* x, int n) {
  CFGAN_DYNAMIC_SHARED(float, partial);
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  partial[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  tree_reduce(partial);
  if (threadIdx.x == 0) block_sums[blockIdx.x] = partial[0];
}

// Block sums of integer-valued floats (exact in any order) against the host.
void check_block_sums(bool dynamic_shared) {
  for (unsigned block : {1u, 2u, 7u, 32u, 100u, 255u, 256u, 512u}) {
    const int n = 1000;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i % 17 - 8);
    const unsigned blocks = (n + block - 1) / block;
    std::vector<float> sums(blocks, -1.0f);
    if (dynamic_shared) {
      CFGAN_LAUNCH(dynamic_shared_sum_kernel, blocks, block, block * sizeof(float), nullptr, sums.data(), x.data(), n);
    } else {
      CFGAN_LAUNCH(static_shared_sum_kernel, blocks, block, 0, nullptr, sums.data(), x.data(), n);
    }
    for (unsigned b = 0; b < blocks; ++b) {
      float expected = 0.0f;
      for (unsigned i = b * block; i < std::min<unsigned>(n, (b + 1) * block); ++i) expected += x[i];
      ASSERT_EQ(sums[b], expected) << "block size " << block << ", block " << b;
    }
  }
}

TEST(Emu, SharedTreeReductionStatic) { check_block_sums(false); }
TEST(Emu, SharedTreeReductionDynamic) { check_block_sums(true); }

// Every block stamps the same static __shared__ variables with its own index, then
// checks over several barriers (fiber switches, while other blocks run on other OS
// threads) that nobody else's stamp appears.
__global__ void shared_ownership_kernel(int* foreign_reads) {
  __shared__ int owner;
  __shared__ int stamps[64];
  if (threadIdx.x == 0) owner = static_cast<int>(blockIdx.x);
  stamps[threadIdx.x] = static_cast<int>(blockIdx.x);
  __syncthreads();
  int foreign = 0;
  for (int round = 0; round < 50; ++round) {
    if (owner != static_cast<int>(blockIdx.x)) ++foreign;
    if (stamps[(threadIdx.x + round) % blockDim.x] != static_cast<int>(blockIdx.x)) ++foreign;
    __syncthreads();
  }
  atomicAdd(foreign_reads, foreign);
}

TEST(Emu, BlocksDoNotShareStaticShared) {
  int foreign_reads = 0;
  CFGAN_LAUNCH(shared_ownership_kernel, 200, 64, 0, nullptr, &foreign_reads);
  EXPECT_EQ(foreign_reads, 0);
}

// Uninitialized dynamic shared memory reads as NaN, so kernels reading what they did
// not write fail visibly.
__global__ void read_unwritten_shared_kernel(float* out) {
  CFGAN_DYNAMIC_SHARED(float, scratch);
  out[threadIdx.x] = scratch[threadIdx.x];
}

TEST(Emu, UnwrittenDynamicSharedIsNaN) {
  std::vector<float> out(8, 0.0f);
  CFGAN_LAUNCH(read_unwritten_shared_kernel, 1, 8, 8 * sizeof(float), nullptr, out.data());
  for (float v : out) EXPECT_TRUE(std::isnan(v));
}

__global__ void index_kernel(int* seen, unsigned* dims) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  atomicAdd(&seen[block * blockDim.x * blockDim.y * blockDim.z + thread], 1);
  if (block == 0 && thread == 0) {
    const unsigned d[6] = {gridDim.x, gridDim.y, gridDim.z, blockDim.x, blockDim.y, blockDim.z};
    for (int k = 0; k < 6; ++k) dims[k] = d[k];
  }
}

TEST(Emu, IndexBuiltinsCoverGridAndBlock) {
  const dim3 grid(3, 2, 4), block(5, 3, 2);
  std::vector<int> seen(3 * 2 * 4 * 5 * 3 * 2, 0);
  std::vector<unsigned> dims(6, 0);
  CFGAN_LAUNCH(index_kernel, grid, block, 0, nullptr, seen.data(), dims.data());
  for (int s : seen) ASSERT_EQ(s, 1);
  EXPECT_EQ(dims, (std::vector<unsigned>{3, 2, 4, 5, 3, 2}));
}

template <int Scale, int Offset>
__global__ void affine_template_kernel(int* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = Scale * i + Offset;
}

TEST(Emu, LaunchesTemplateKernels) {
  std::vector<int> out(100, 0);
  CFGAN_LAUNCH((affine_template_kernel<3, 2>), 4, 32, 0, nullptr, out.data(), 100);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(out[i], 3 * i + 2);
}

// Runs a launch that must fail and returns its message.
template <typename Launch>
std::string launch_error(Launch launch) {
  try {
    launch();
  } catch (const emu::KernelError& e) {
    return e.what();
  }
  ADD_FAILURE() << "the launch did not fail";
  return {};
}

void expect_contains(const std::string& message, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
}

__global__ void early_exit_barrier_kernel(float* data) {
  if (threadIdx.x >= 5) return;
  data[threadIdx.x] = 1.0f;
  __syncthreads();
}

__global__ void two_barriers_kernel(float* data) {
  if (threadIdx.x % 2 == 0) {
    data[threadIdx.x] = 1.0f;
    __syncthreads();
  } else {
    __syncthreads();
  }
}

TEST(Emu, DivergentSyncthreadsIsAnError) {
  std::vector<float> data(64);
  expect_contains(
      launch_error([&] { CFGAN_LAUNCH(early_exit_barrier_kernel, 2, 64, 0, nullptr, data.data()); }),
      {"emulated kernel 'early_exit_barrier_kernel'", "divergent __syncthreads", "exited", "test_emu_sync.cpp:"});
  expect_contains(launch_error([&] { CFGAN_LAUNCH(two_barriers_kernel, 1, 64, 0, nullptr, data.data()); }),
                  {"emulated kernel 'two_barriers_kernel'", "divergent __syncthreads", "block (0,0,0)",
                   "thread (1,0,0) reached __syncthreads"});
  // The OS thread's scheduler recovers: abandoned fibers are reused.
  std::vector<int> wrong(64, -1);
  CFGAN_LAUNCH(barrier_phases_kernel, 1, 64, 0, nullptr, wrong.data(), 3);
  EXPECT_EQ(std::accumulate(wrong.begin(), wrong.end(), 0), 0);
}

TEST(Emu, BarrierOutsideKernelIsAnError) { EXPECT_THROW(__syncthreads(), std::logic_error); }

__global__ void empty_kernel() {}

TEST(Emu, InvalidConfigurationIsAnError) {
  expect_contains(launch_error([] { CFGAN_LAUNCH(empty_kernel, 1, 2048, 0, nullptr); }),
                  {"emulated kernel 'empty_kernel'", "invalid configuration", "1024 threads"});
  expect_contains(launch_error([] { CFGAN_LAUNCH(empty_kernel, 0, 32, 0, nullptr); }),
                  {"invalid configuration", "grid (0,1,1)"});
  expect_contains(launch_error([] { CFGAN_LAUNCH(empty_kernel, 1, 32, 64 * 1024, nullptr); }),
                  {"dynamic shared memory"});
}

// The order in which a block's threads start, and in which they leave a barrier.
__global__ void record_order_kernel(int* started, int* resumed, int* counter) {
  const int t = static_cast<int>(threadIdx.x);
  started[counter[0]++] = t;
  __syncthreads();
  resumed[counter[1]++] = t;
}

// A race: each thread reads its left neighbour's slot with no barrier in between. Threads
// started in order always find it written; a shuffled start order does not.
__global__ void read_left_without_barrier_kernel(int* read) {
  __shared__ int slots[256];
  const int t = static_cast<int>(threadIdx.x);
  slots[t] = 1000 + t;
  if (t > 0) read[t] = slots[t - 1];
}

TEST(Emu, ShuffleModeReordersThreadsBySeed) {
  // Run in order by default; with CFGAN_EMU_SHUFFLE=<seed> (the ctest case
  // Emu.ShuffledParity runs the parity tests so) every block starts its threads and leaves
  // each barrier in a seeded random order, the same on every launch.
  const int n = 96;
  auto run = [&] {
    std::vector<int> started(n, -1), resumed(n, -1), counter(2, 0);
    CFGAN_LAUNCH(record_order_kernel, 1, n, 0, nullptr, started.data(), resumed.data(), counter.data());
    return std::pair{started, resumed};
  };
  const auto [started, resumed] = run();
  std::vector<int> in_order(n);
  std::iota(in_order.begin(), in_order.end(), 0);
  for (const std::vector<int>* order : {&started, &resumed})
    EXPECT_TRUE(std::is_permutation(order->begin(), order->end(), in_order.begin()));
  std::vector<int> read(n, 0);
  CFGAN_LAUNCH(read_left_without_barrier_kernel, 1, n, 0, nullptr, read.data());
  int stale = 0;
  for (int t = 1; t < n; ++t) stale += read[t] != 1000 + t - 1;
  const char* seed = std::getenv("CFGAN_EMU_SHUFFLE");
  if (seed == nullptr || std::strtoull(seed, nullptr, 10) == 0) {
    EXPECT_EQ(started, in_order);
    EXPECT_EQ(stale, 0) << "in order, the race is invisible";
    return;
  }
  EXPECT_GT(stale, 0) << "shuffled, the race shows";
  EXPECT_NE(started, in_order);
  EXPECT_NE(resumed, started);  // the waiters leave in another random order
  EXPECT_EQ(run(), std::pair(started, resumed));
}

}  // namespace
}  // namespace cfgan::cuda_emu
