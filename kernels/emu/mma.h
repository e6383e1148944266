// Tensor-core instructions, as the kernels in kernels/cuda/ use them (through
// kernels/cuda/mma.cuh): the operand conversions and the warp-wide matrix
// multiply-accumulate mma.sync.aligned.{m16n8k8 tf32, m16n8k16 bf16}.row.col.f32.
//
// Each lane holds the fragments the PTX ISA assigns to it (lane l: group g = l / 4,
// thread in group t = l % 4):
//   A (16 x K, row-major), 4 registers: register r holds row g + 8 (r % 2) at
//     k = t + 4 (r / 2) (TF32), or the pair k = 2t + 8 (r / 2) + {0 low half, 1 high half} (BF16);
//   B (K x 8, column-major), 2 registers: register r holds column g at k = t + 4r (TF32),
//     or the pair k = 2t + 8r + {0, 1} (BF16);
//   C, D (16 x 8, FP32), 4 registers: register r holds row g + 8 (r / 2), column 2t + r % 2.
// The call is a meeting of all 32 lanes (a missing lane or a partial mask throws, as
// mma.sync.aligned requires every lane). A TF32 operand's low 13 bits are ignored, as the
// hardware ignores them. Each instruction's products and C are summed exactly and rounded
// once to FP32; a GPU's tensor core adds them in its own order and rounding, so the
// results agree within FP32 summation error, which is what the parity tests allow.
#pragma once

#include <cstdint>
#include <source_location>

#include "kernels/precision.h"

namespace cfgan::emu {

namespace detail {

enum class MmaShape : int64_t { m16n8k8_tf32, m16n8k16_bf16 };

// One lane's registers, handed to the meeting by address.
struct MmaLane {
  const uint32_t* a;  // 4 registers
  const uint32_t* b;  // 2 registers
  const float* c;     // 4 registers
  float* d;           // 4 registers, written after every lane's C has been read
};

void mma_sync(MmaShape shape, const MmaLane& lane, const std::source_location& where);

// Runs one instruction for the whole warp, given each lane's MmaLane.
void multiply_accumulate(MmaShape shape, const MmaLane* const (&lanes)[32]);

}  // namespace detail

// cvt.rna.tf32.f32: x rounded to TF32, in a 32-bit register with the low 13 bits zero.
inline uint32_t to_tf32(float x) { return std::bit_cast<uint32_t>(round_to_tf32(x)); }

// cvt.rn.bf16x2.f32 d, hi, lo: both rounded to BF16, lo in the low half.
inline uint32_t to_bf16x2(float lo, float hi) {
  return (std::bit_cast<uint32_t>(round_to_bf16(hi)) & 0xffff0000u) | (std::bit_cast<uint32_t>(round_to_bf16(lo)) >> 16);
}

// d = a b + c.
inline void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                             std::source_location where = std::source_location::current()) {
  detail::mma_sync(detail::MmaShape::m16n8k8_tf32, {a, b, c, d}, where);
}

inline void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                              std::source_location where = std::source_location::current()) {
  detail::mma_sync(detail::MmaShape::m16n8k16_bf16, {a, b, c, d}, where);
}

}  // namespace cfgan::emu
