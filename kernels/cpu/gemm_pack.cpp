#include "kernels/cpu/gemm_pack.h"

#include <algorithm>
#include <new>

#include "kernels/cpu/gemm_simd.h"

namespace cfgan::cpu::gemm_detail {
namespace {

// Lines laid out along k's rows: each k step is one contiguous run of `width` floats.
// Consecutive panels are packed from consecutive runs of the same rows, each run only a
// line or two, too short for the hardware prefetchers to pick up the row as a stream;
// so the run two panels ahead is prefetched here.
void pack_rows(const PanelSource& s, int64_t kc, int64_t width, int64_t padded_width, float* dst) {
  constexpr int W = Simd::width;
  for (int64_t k = 0; k < kc; ++k) {
    const float* line = s.src + k * s.line_stride;
    __builtin_prefetch(line + 2 * padded_width);
    float* out = dst + k * padded_width;
    int64_t l = 0;
    for (; l + W <= width; l += W) Simd::store(out + l, Simd::load(line + l));
    if (l < padded_width) {
      const int valid = static_cast<int>(width - l);
      const Simd::V tail = valid > 0 ? Simd::load_first(line + l, valid) : Simd::zero();
      Simd::store_first(out + l, tail, static_cast<int>(padded_width - l));
    }
  }
}

#if defined(__AVX512F__)

// In-register 16x16 transpose: unpack pairs, then 4x4 blocks, then 128-bit lanes twice.
// Zero-masked forms with a full mask compile to the plain instructions; the unmasked
// intrinsics trip GCC 12's false -Wuninitialized (GCC PR 105593).
void transpose16(__m512 r[16]) {
  constexpr __mmask16 all = 0xFFFF;
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_ps(all, r[i], r[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_ps(all, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 16; h += 8) {
    for (int i = 0; i < 4; ++i) {
      t[h + i] = _mm512_maskz_shuffle_f32x4(all, r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_maskz_shuffle_f32x4(all, r[h + i], r[h + i + 4], 0xdd);
    }
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_maskz_shuffle_f32x4(all, t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_maskz_shuffle_f32x4(all, t[i], t[i + 8], 0xdd);
  }
}

// Lines contiguous in k: transpose 16 lines x 16 steps at a time in registers, so
// both the reads and the writes stay whole vectors.
void pack_columns(const PanelSource& s, int64_t kc, int64_t width, int64_t padded_width, float* dst) {
  for (int64_t l0 = 0; l0 < padded_width; l0 += 16) {
    const int64_t lines = std::min<int64_t>(16, width - l0);
    const int lanes = static_cast<int>(std::min<int64_t>(16, padded_width - l0));
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int steps = static_cast<int>(std::min<int64_t>(16, kc - k0));
      __m512 r[16];
      for (int i = 0; i < 16; ++i) {
        if (i >= lines) {
          r[i] = Simd::zero();
          continue;
        }
        const float* line = s.src + (l0 + i) * s.line_stride + k0;
        r[i] = steps == 16 ? Simd::load(line) : Simd::load_first(line, steps);
      }
      transpose16(r);
      float* out = dst + k0 * padded_width + l0;
      for (int k = 0; k < steps; ++k) {
        if (lanes == 16) {
          Simd::store(out + k * padded_width, r[k]);
        } else {
          Simd::store_first(out + k * padded_width, r[k], lanes);
        }
      }
    }
  }
}

#else

void pack_columns(const PanelSource& s, int64_t kc, int64_t width, int64_t padded_width, float* dst) {
  for (int64_t k = 0; k < kc; ++k) {
    float* out = dst + k * padded_width;
    for (int64_t l = 0; l < padded_width; ++l) out[l] = l < width ? s.src[l * s.line_stride + k] : 0.0f;
  }
}

#endif

}  // namespace

void pack_panel(const PanelSource& s, int64_t kc, int64_t width, int64_t padded_width, float* dst) {
  if (s.lines_contiguous_in_k) {
    pack_columns(s, kc, width, padded_width, dst);
  } else {
    pack_rows(s, kc, width, padded_width, dst);
  }
}

#if defined(__AVX512BF16__)

namespace {

// The zero-masked form with a full mask is the plain shift; the unmasked intrinsic trips
// GCC 12's false -Wuninitialized (GCC PR 105593).
__m512i shift_right(__m512i x, unsigned bits) { return _mm512_maskz_srli_epi32(0xFFFF, x, bits); }

// round_to_bf16 on 16 lanes of FP32 bits, the BF16 result in each word's high half.
__m512i round_to_bf16_high(__m512i x) {
  const __m512i lsb = _mm512_and_si512(shift_right(x, 16), _mm512_set1_epi32(1));
  const __m512i nearest = _mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb);
  const __mmask16 nan =
      _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  const __m512i quieted = _mm512_mask_or_epi32(nearest, nan, x, _mm512_set1_epi32(0x00400000));
  return _mm512_and_si512(quieted, _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
}

}  // namespace

// In place: pair p's words go where step p was, after steps 2p and 2p + 1 are read; every
// step below 2p has been read by then, and at p = 0 each chunk is read before it is written.
void pack_bf16_pairs(float* panel, int64_t kc, int64_t width) {
  for (int64_t p = 0; 2 * p < kc; ++p) {
    const float* first = panel + 2 * p * width;
    const bool second = 2 * p + 1 < kc;
    float* out = panel + p * width;
    for (int64_t l = 0; l < width; l += 16) {
      const __mmask16 m = width - l >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (width - l)) - 1u);
      const __m512i high = round_to_bf16_high(_mm512_maskz_loadu_epi32(m, first + l));
      __m512i low = _mm512_setzero_si512();
      if (second) low = shift_right(round_to_bf16_high(_mm512_maskz_loadu_epi32(m, first + width + l)), 16);
      _mm512_mask_storeu_epi32(out + l, m, _mm512_or_si512(high, low));
    }
  }
}

#endif

float* PackBuffer::get(int64_t floats) {
  if (floats > capacity_) {
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
    float* fresh = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!fresh) throw std::bad_alloc();
    data_.reset(fresh);
    capacity_ = floats;
  }
  return data_.get();
}

PackBuffers& thread_pack_buffers() {
  thread_local PackBuffers buffers;
  return buffers;
}

}  // namespace cfgan::cpu::gemm_detail
