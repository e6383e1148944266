// The emulator's warp semantics: shuffles (with width segments, as PTX defines
// them), a shuffle reduction, votes, __syncwarp, partial warps and exited lanes, and
// warp-level divergence reported as an error naming the kernel; the tensor-core
// instructions (mma.sync) on their PTX fragment layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#define CFGAN_CUDA_EMU
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/mma.cuh"

namespace cfgan::cuda_emu {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;

// out holds 4 results per thread: idx, up, down, xor, for one width.
__global__ void shuffle_kernel(int* out, int width, int src_lane, unsigned delta, int lane_mask) {
  const int t = static_cast<int>(threadIdx.x);
  const int value = 1000 * t;
  out[4 * t + 0] = __shfl_sync(kFullMask, value, src_lane, width);
  out[4 * t + 1] = __shfl_up_sync(kFullMask, value, delta, width);
  out[4 * t + 2] = __shfl_down_sync(kFullMask, value, delta, width);
  out[4 * t + 3] = __shfl_xor_sync(kFullMask, value, lane_mask, width);
}

// The CUDA programming guide's rules, written independently of the emulator's PTX
// formulation: out-of-segment up/down sources give the own value; xor may read an
// earlier segment but not a later one.
std::vector<int> expected_shuffles(int threads, int width, int src_lane, int delta, int lane_mask) {
  std::vector<int> out(4 * threads);
  for (int t = 0; t < threads; ++t) {
    const int warp_base = t / 32 * 32, lane = t % 32, segment = lane / width * width;
    const int idx = segment + src_lane % width;
    const int up = lane % width >= delta ? lane - delta : lane;
    const int down = lane % width + delta < width ? lane + delta : lane;
    const int x = lane ^ lane_mask;
    const int xr = x < segment + width ? x : lane;
    out[4 * t + 0] = 1000 * (warp_base + idx);
    out[4 * t + 1] = 1000 * (warp_base + up);
    out[4 * t + 2] = 1000 * (warp_base + down);
    out[4 * t + 3] = 1000 * (warp_base + xr);
  }
  return out;
}

TEST(Emu, ShufflesFollowWidthSegments) {
  struct Case {
    int width, src_lane, delta, lane_mask;
  };
  for (Case c : {Case{32, 5, 1, 1}, Case{32, 37, 16, 31}, Case{8, 3, 2, 5}, Case{8, 11, 7, 8}, Case{16, 0, 3, 16},
                 Case{1, 0, 1, 1}, Case{4, 2, 3, 2}}) {
    std::vector<int> out(4 * 64, -1);
    CFGAN_LAUNCH(shuffle_kernel, 1, 64, 0, nullptr, out.data(), c.width, c.src_lane, static_cast<unsigned>(c.delta),
                 c.lane_mask);
    EXPECT_EQ(out, expected_shuffles(64, c.width, c.src_lane, c.delta, c.lane_mask))
        << "width " << c.width << " src " << c.src_lane << " delta " << c.delta << " xor " << c.lane_mask;
  }
}

// Butterfly (every lane gets the total) and down-sweep (lane 0 does) reductions of
// integer-valued floats and of doubles.
__global__ void warp_reduce_kernel(float* xor_sums, double* down_sums, const float* x) {
  const unsigned t = blockIdx.x * blockDim.x + threadIdx.x;
  float v = x[t];
  for (int mask = 16; mask > 0; mask /= 2) v += __shfl_xor_sync(kFullMask, v, mask);
  xor_sums[t] = v;
  double d = x[t];
  for (unsigned offset = 16; offset > 0; offset /= 2) d += __shfl_down_sync(kFullMask, d, offset);
  if (threadIdx.x % 32 == 0) down_sums[t / 32] = d;
}

TEST(Emu, WarpShuffleReduction) {
  const int blocks = 3, threads = 1024, n = blocks * threads;
  std::vector<float> x(n), xor_sums(n);
  std::vector<double> down_sums(n / 32);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>((i * 7) % 23 - 11);
  CFGAN_LAUNCH(warp_reduce_kernel, blocks, threads, 0, nullptr, xor_sums.data(), down_sums.data(), x.data());
  for (int w = 0; w < n / 32; ++w) {
    float total = 0.0f;
    for (int l = 0; l < 32; ++l) total += x[32 * w + l];
    ASSERT_EQ(down_sums[w], total) << "warp " << w;
    for (int l = 0; l < 32; ++l) ASSERT_EQ(xor_sums[32 * w + l], total) << "warp " << w << " lane " << l;
  }
}

__global__ void vote_kernel(unsigned* ballots, int* any, int* all) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const unsigned b = __ballot_sync(kFullMask, lane % 3 == 0);
  const int a = __any_sync(kFullMask, lane == 5);
  const int none = __any_sync(kFullMask, lane > 40);
  const int every = __all_sync(kFullMask, lane < 32);
  const int not_every = __all_sync(kFullMask, lane < 31);
  if (lane == 0) {
    ballots[warp] = b;
    any[2 * warp] = a;
    any[2 * warp + 1] = none;
    all[2 * warp] = every;
    all[2 * warp + 1] = not_every;
  }
}

TEST(Emu, Votes) {
  // 40 threads: warp 1 has only lanes 0..7; absent lanes do not vote.
  std::vector<unsigned> ballots(2);
  std::vector<int> any(4), all(4);
  CFGAN_LAUNCH(vote_kernel, 1, 40, 0, nullptr, ballots.data(), any.data(), all.data());
  EXPECT_EQ(ballots[0], 0x49249249u);
  EXPECT_EQ(ballots[1], 0x49u);
  EXPECT_EQ(any, (std::vector<int>{1, 0, 1, 0}));
  EXPECT_EQ(all, (std::vector<int>{1, 0, 1, 1}));  // warp 1 has no lane 31 to say no
}

// __syncwarp orders shared-memory writes and reads among the lanes of a warp.
__global__ void syncwarp_kernel(int* wrong_reads) {
  __shared__ int slots[64];
  const unsigned lane = threadIdx.x % 32, base = threadIdx.x - lane;
  int wrong = 0;
  for (int round = 0; round < 4; ++round) {
    slots[threadIdx.x] = round * 100 + static_cast<int>(threadIdx.x);
    __syncwarp();
    const unsigned other = base + (lane + 1 + round) % 32;
    if (slots[other] != round * 100 + static_cast<int>(other)) ++wrong;
    __syncwarp();
  }
  wrong_reads[threadIdx.x] = wrong;
}

TEST(Emu, SyncwarpOrdersSharedMemory) {
  std::vector<int> wrong(64, -1);
  CFGAN_LAUNCH(syncwarp_kernel, 1, 64, 0, nullptr, wrong.data());
  EXPECT_EQ(wrong, std::vector<int>(64, 0));
}

// Lanes 16..31 exit first; the others still shuffle with the full mask, which CUDA
// allows ("non-exited threads named in mask"). Reading an exited lane gives NaN.
__global__ void exited_lanes_kernel(float* out) {
  const unsigned lane = threadIdx.x;
  if (lane >= 16) return;
  const float v = static_cast<float>(lane);
  out[2 * lane] = __shfl_xor_sync(kFullMask, v, 1);
  out[2 * lane + 1] = __shfl_down_sync(kFullMask, v, 8);
}

TEST(Emu, ExitedLanesAreNotWaitedFor) {
  std::vector<float> out(32, -1.0f);
  CFGAN_LAUNCH(exited_lanes_kernel, 1, 32, 0, nullptr, out.data());
  for (int lane = 0; lane < 16; ++lane) {
    EXPECT_EQ(out[2 * lane], static_cast<float>(lane ^ 1));
    if (lane < 8) {
      EXPECT_EQ(out[2 * lane + 1], static_cast<float>(lane + 8));
    } else {
      EXPECT_TRUE(std::isnan(out[2 * lane + 1])) << "lane " << lane << " read exited lane " << lane + 8;
    }
  }
}

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

// Half the warp shuffles while the other half waits at __syncthreads: on a device
// this hangs or corrupts; here it is an error saying who waits where.
__global__ void shuffle_vs_barrier_kernel(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x < 16) {
    v = __shfl_down_sync(kFullMask, v, 1);
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = v;
}

// Lanes 0..15 name the whole warp, lanes 16..31 only themselves.
__global__ void mismatched_masks_kernel(float* out) {
  const unsigned mask = threadIdx.x < 16 ? kFullMask : 0xffff0000u;
  out[threadIdx.x] = __shfl_sync(mask, 1.0f, 0);
}

__global__ void mask_without_self_kernel(float* out) { out[threadIdx.x] = __shfl_sync(0x1u, 1.0f, 0); }

TEST(Emu, DivergentWarpOperationIsAnError) {
  std::vector<float> out(32);
  expect_contains(launch_error([&] { CFGAN_LAUNCH(shuffle_vs_barrier_kernel, 1, 32, 0, nullptr, out.data()); }),
                  {"emulated kernel 'shuffle_vs_barrier_kernel'", "divergent barrier", "16 threads wait at __syncthreads",
                   "lanes 0x0000ffff of warp 0 wait at __shfl_down_sync", "for lanes 0xffff0000"});
  expect_contains(launch_error([&] { CFGAN_LAUNCH(mismatched_masks_kernel, 1, 32, 0, nullptr, out.data()); }),
                  {"emulated kernel 'mismatched_masks_kernel'", "divergent warp operation", "mask 0xffffffff"});
  expect_contains(launch_error([&] { CFGAN_LAUNCH(mask_without_self_kernel, 1, 32, 0, nullptr, out.data()); }),
                  {"emulated kernel 'mask_without_self_kernel'", "does not name its own lane"});
}

// D = A B + C for A (16 x 16) and B (16 x 8) row-major, as two TF32 instructions of depth
// 8 or one BF16 instruction of depth 16, each lane loading the elements the PTX ISA gives
// it (g = lane / 4, t = lane % 4). The accumulator is passed as both C and D.
__global__ void mma_tile_kernel(const float* a, const float* b, const float* c, float* d, bool bf16) {
  const int lane = static_cast<int>(threadIdx.x), g = lane / 4, t = lane % 4;
  float acc[4];
  for (int r = 0; r < 4; ++r) acc[r] = c[(g + 8 * (r / 2)) * 8 + 2 * t + r % 2];
  uint32_t af[4], bfr[2];
  if (bf16) {
    for (int r = 0; r < 4; ++r) {
      const int row = g + 8 * (r % 2), k = 2 * t + 8 * (r / 2);
      af[r] = to_bf16x2(a[row * 16 + k], a[row * 16 + k + 1]);
    }
    for (int r = 0; r < 2; ++r) bfr[r] = to_bf16x2(b[(2 * t + 8 * r) * 8 + g], b[(2 * t + 8 * r + 1) * 8 + g]);
    mma_m16n8k16_bf16(acc, af, bfr, acc);
  } else {
    for (int k0 = 0; k0 < 16; k0 += 8) {
      for (int r = 0; r < 4; ++r) af[r] = to_tf32(a[(g + 8 * (r % 2)) * 16 + k0 + t + 4 * (r / 2)]);
      // B's second register is passed unrounded: the instruction must ignore its low 13 bits.
      bfr[0] = to_tf32(b[(k0 + t) * 8 + g]);
      bfr[1] = __float_as_uint(b[(k0 + t + 4) * 8 + g]);
      mma_m16n8k8_tf32(acc, af, bfr, acc);
    }
  }
  for (int r = 0; r < 4; ++r) d[(g + 8 * (r / 2)) * 8 + 2 * t + r % 2] = acc[r];
}

TEST(Emu, MmaFollowsThePtxFragmentLayouts) {
  std::vector<float> a(16 * 16), b(16 * 8), c(16 * 8);
  // Distinct values per element, with bits below TF32's and BF16's precision.
  for (int i = 0; i < 256; ++i) a[i] = 1.0f + i / 256.0f + 1e-6f * static_cast<float>(i % 7);
  for (int i = 0; i < 128; ++i) b[i] = (i % 2 ? -0.5f : 0.75f) + i / 1024.0f + 3e-6f;
  for (int i = 0; i < 128; ++i) c[i] = static_cast<float>(i) - 60.0f;
  for (bool bf16 : {false, true}) {
    std::vector<float> d(16 * 8, -1.0f);
    CFGAN_LAUNCH(mma_tile_kernel, 1, 32, 0, nullptr, a.data(), b.data(), c.data(), d.data(), bf16);
    const auto operand = [&](float x) {
      if (bf16) return round_to_bf16(x);
      return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0xffffe000u);  // the ignored bits, truncated
    };
    for (int i = 0; i < 16; ++i) {
      for (int j = 0; j < 8; ++j) {
        // TF32: the kernel rounds A and B's first register, and B's second register is
        // truncated by the instruction; exact sums, rounded once per instruction.
        double want = c[i * 8 + j];
        if (bf16) {
          for (int k = 0; k < 16; ++k) want += static_cast<double>(operand(a[i * 16 + k])) * operand(b[k * 8 + j]);
        } else {
          for (int k0 = 0; k0 < 16; k0 += 8) {
            double part = want;
            for (int k = k0; k < k0 + 8; ++k) {
              const float bk = k % 8 < 4 ? round_to_tf32(b[k * 8 + j]) : operand(b[k * 8 + j]);
              part += static_cast<double>(round_to_tf32(a[i * 16 + k])) * bk;
            }
            want = static_cast<float>(part);
          }
        }
        EXPECT_EQ(d[i * 8 + j], static_cast<float>(want)) << (bf16 ? "bf16" : "tf32") << " D(" << i << ", " << j << ")";
      }
    }
  }
}

__global__ void mma_with_exited_lane_kernel(float* d) {
  if (threadIdx.x == 5) return;
  float acc[4] = {};
  const uint32_t af[4] = {}, bfr[2] = {};
  mma_m16n8k8_tf32(acc, af, bfr, acc);
  d[threadIdx.x] = acc[0];
}

TEST(Emu, MmaWithoutTheWholeWarpIsAnError) {
  std::vector<float> d(32);
  expect_contains(launch_error([&] { CFGAN_LAUNCH(mma_with_exited_lane_kernel, 1, 32, 0, nullptr, d.data()); }),
                  {"emulated kernel 'mma_with_exited_lane_kernel'", "mma.sync", "needs all 32"});
}

}  // namespace
}  // namespace cfgan::cuda_emu
