// Packing for the GEMM: copies a block of op(A) or op(B) into the k-major micro-panels
// the micro-kernel streams through, so its loads are contiguous whatever the
// transposition and leading dimension of the caller's matrix.
//
// Both operands are packed the same way. A panel of `width` lines (rows of op(A), or
// columns of op(B)) over kc steps of the reduction index k is stored as
// dst[k * padded_width + line]: A panels have padded_width == width (the micro-kernel
// is instantiated per height), B panels are zero-filled up to a whole number of
// vectors (the kernel computes full vectors and stores only the valid lanes).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace cfgan::cpu::gemm_detail {

// Line `l`, step `k` of a panel lives at src[l * line_stride + k] when the lines are
// contiguous in k (rows of a non-transposed A, rows of a transposed B), and at
// src[k * line_stride + l] otherwise.
struct PanelSource {
  const float* src;
  int64_t line_stride;
  bool lines_contiguous_in_k;
};

void pack_panel(const PanelSource& s, int64_t kc, int64_t width, int64_t padded_width, float* dst);

#if defined(__AVX512BF16__)
// Rounds a packed panel of kc steps x `width` lines to BF16 (as round_to_bf16,
// kernels/precision.h) and folds it, in place, into (kc + 1) / 2 steps of 32-bit words:
// step p holds, per line, BF16(step 2p) in the high half and BF16(step 2p + 1) in the low
// half (zero past an odd kc), the operand layout of gemm_simd.h's Bf16PairStep.
void pack_bf16_pairs(float* panel, int64_t kc, int64_t width);
#endif

// A 64-byte aligned scratch buffer that grows on demand and is then reused, so that
// steady-state GEMM calls allocate nothing.
class PackBuffer {
 public:
  float* get(int64_t floats);

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

struct PackBuffers {
  PackBuffer a, b;
  PackBuffer c;  // a k slice's share of C (gemm.cpp's k split)
};

// The calling thread's buffers (OpenMP keeps its pool threads, and so their buffers, alive).
PackBuffers& thread_pack_buffers();

}  // namespace cfgan::cpu::gemm_detail
