// The arithmetic of the emulated tensor-core instructions (mma.h); the meeting of the
// lanes is the scheduler's (warp_ops.cpp).
#include "kernels/emu/mma.h"

#include <bit>

#include "kernels/emu/scheduler.h"

namespace cfgan::emu::detail {

namespace {

constexpr int kRows = 16, kCols = 8;

float tf32_operand(uint32_t bits) { return std::bit_cast<float>(bits & 0xffffe000u); }
float bf16_low(uint32_t bits) { return std::bit_cast<float>(bits << 16); }
float bf16_high(uint32_t bits) { return std::bit_cast<float>(bits & 0xffff0000u); }

}  // namespace

void multiply_accumulate(MmaShape shape, const MmaLane* const (&lanes)[32]) {
  const bool tf32 = shape == MmaShape::m16n8k8_tf32;
  const int depth = tf32 ? 8 : 16;
  float a[kRows][16], b[16][kCols];
  double d[kRows][kCols];
  for (int lane = 0; lane < 32; ++lane) {
    const MmaLane& x = *lanes[lane];
    const int g = lane / 4, t = lane % 4;
    for (int r = 0; r < 4; ++r) {
      const int row = g + 8 * (r % 2);
      if (tf32) {
        a[row][t + 4 * (r / 2)] = tf32_operand(x.a[r]);
      } else {
        const int k = 2 * t + 8 * (r / 2);
        a[row][k] = bf16_low(x.a[r]), a[row][k + 1] = bf16_high(x.a[r]);
      }
      d[g + 8 * (r / 2)][2 * t + r % 2] = x.c[r];
    }
    for (int r = 0; r < 2; ++r) {
      if (tf32) {
        b[t + 4 * r][g] = tf32_operand(x.b[r]);
      } else {
        const int k = 2 * t + 8 * r;
        b[k][g] = bf16_low(x.b[r]), b[k + 1][g] = bf16_high(x.b[r]);
      }
    }
  }
  // Every C is read above before any D is written: a lane may pass the same registers as both.
  for (int i = 0; i < kRows; ++i) {
    for (int j = 0; j < kCols; ++j) {
      for (int k = 0; k < depth; ++k) d[i][j] += static_cast<double>(a[i][k]) * b[k][j];
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int r = 0; r < 4; ++r) lanes[lane]->d[r] = static_cast<float>(d[g + 8 * (r / 2)][2 * t + r % 2]);
  }
}

void mma_sync(MmaShape shape, const MmaLane& lane, const std::source_location& where) {
  warp_collective(WarpOp::mma, 0xffffffffu, std::bit_cast<uint64_t>(&lane), static_cast<int64_t>(shape), 32, where);
}

}  // namespace cfgan::emu::detail
