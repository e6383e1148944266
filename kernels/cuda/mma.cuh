// Tensor-core instructions for the kernels: operand conversions to TF32 / BF16 and the
// warp-wide mma.sync.aligned.{m16n8k8 tf32, m16n8k16 bf16}.row.col.f32 with FP32
// accumulators. Which lane holds which element of A, B, C and D is written out in
// kernels/emu/mma.h, whose functions of the same names stand in for these in the
// emulated build. Needs sm_80 or newer (the build's default architectures are 80 and 90).
#pragma once

#include <cstdint>

#include "kernels/cuda/runtime.cuh"
#include "kernels/precision.h"

#if !defined(CFGAN_CUDA_EMU)

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "cfgan's tensor-core kernels (kernels/cuda/mma.cuh) need compute capability 8.0 or newer"
#endif

namespace cfgan::cuda {

// cvt.rna.tf32.f32, with the low 13 bits cleared so the value can also feed an FP32 FMA.
__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r & 0xffffe000u;
}

// Both rounded to BF16 (to nearest even), lo in the low half.
__device__ __forceinline__ uint32_t to_bf16x2(float lo, float hi) {
  uint32_t r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

// d = a b + c
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}

__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                  const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}

}  // namespace cfgan::cuda

#endif

namespace cfgan::CFGAN_CUDA_NS {

// One operand rounded as the tensor cores would read it, for kernels that multiply with
// FP32 FMAs (the GEMV-like products): equal to round_operand on the host.
__device__ __forceinline__ float round_operand_on_device(float x, MatmulPrecision p) {
  if (p == MatmulPrecision::tf32) return __uint_as_float(to_tf32(x));
  if (p == MatmulPrecision::bf16) return __uint_as_float(to_bf16x2(0.0f, x) & 0xffff0000u);
  return x;
}

}  // namespace cfgan::CFGAN_CUDA_NS
