// The operand precisions a matrix product may run in. FP32 is exact IEEE single
// precision throughout. TF32 and BF16 are the tensor cores' input formats: each operand
// is rounded to it (TF32: 10 mantissa bits, to nearest with ties away from zero, as
// cvt.rna.tf32.f32; BF16: 7 mantissa bits, to nearest even, as cvt.rn.bf16.f32), the
// products of two rounded operands are exact in FP32, and they are summed in FP32. The
// CPU backend rounds the same way, so it stays the reference for the GPU's kernels (its
// AVX-512 BF16 kernels also flush subnormal operands and sums: docs/tensor-cores.md).
#pragma once

#include <bit>
#include <cstdint>

namespace cfgan {

enum class MatmulPrecision : uint8_t { fp32, tf32, bf16 };

// Infinities and NaNs pass unchanged; a finite value past TF32's largest rounds to
// infinity, as on the GPU.
inline float round_to_tf32(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) return x;
  // Adding half of the dropped range to the magnitude rounds ties away from zero.
  return std::bit_cast<float>((bits + 0x1000u) & 0xffffe000u);
}

// NaNs stay NaN (quieted, as a BF16 NaN must keep a mantissa bit in the kept half).
inline float round_to_bf16(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return std::bit_cast<float>((bits | 0x00400000u) & 0xffff0000u);
  const uint32_t lsb = (bits >> 16) & 1u;  // ties go to the even neighbour
  return std::bit_cast<float>((bits + 0x7fffu + lsb) & 0xffff0000u);
}

inline float round_operand(float x, MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::tf32: return round_to_tf32(x);
    case MatmulPrecision::bf16: return round_to_bf16(x);
    default: return x;
  }
}

inline const char* precision_name(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::tf32: return "tf32";
    case MatmulPrecision::bf16: return "bf16";
    default: return "fp32";
  }
}

}  // namespace cfgan
