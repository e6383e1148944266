// Interleaving is a 16 x 16 transpose per block of (16 images, 16 pixels), in registers
// where the CPU has AVX-512.
#include "kernels/cpu/image_lanes.h"

#include <algorithm>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

constexpr int64_t kLanes = kImageLanes;

#if defined(__AVX512F__)
// The lane picks of the four rounds of a 16 x 16 transpose in registers: round s (8, 4, 2,
// 1) swaps the off-diagonal s x s blocks of each 2s x 2s block, rows i and i + s becoming
// permutex2var(row i, low, row i + s) and permutex2var(row i, high, row i + s).
struct TransposePicks {
  alignas(64) int32_t low[4][16], high[4][16];
};

constexpr TransposePicks transpose_picks() {
  TransposePicks p{};
  for (int round = 0; round < 4; ++round) {
    const int s = 8 >> round;
    for (int l = 0; l < 16; ++l) {
      p.low[round][l] = l & s ? 16 + l - s : l;
      p.high[round][l] = l & s ? 16 + l : l + s;
    }
  }
  return p;
}

constexpr TransposePicks kTransposePicks = transpose_picks();

__mmask16 first_lanes(int64_t n) { return n >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }
#endif

}  // namespace

// Each block is transposed in registers where the CPU has AVX-512; a ragged block is
// masked, not copied element by element.
void transpose(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows, int64_t cols,
               bool accumulate) {
  for (int64_t r0 = 0; r0 < rows; r0 += kLanes) {
    for (int64_t c0 = 0; c0 < cols; c0 += kLanes) {
#if defined(__AVX512F__)
      const int64_t block_rows = std::min(kLanes, rows - r0), block_cols = std::min(kLanes, cols - c0);
      const __mmask16 read = first_lanes(block_cols), written = first_lanes(block_rows);
      // Fully unrolled, so that the rows are indexed by constants and all 16 stay in registers.
      __m512 r[kLanes];
#pragma GCC unroll 16
      for (int i = 0; i < kLanes; ++i) {
        r[i] = i < block_rows ? _mm512_maskz_loadu_ps(read, src + (r0 + i) * ld_src + c0) : _mm512_setzero_ps();
      }
#pragma GCC unroll 4
      for (int round = 0; round < 4; ++round) {
        const int s = 8 >> round;
        const __m512i low = _mm512_load_si512(kTransposePicks.low[round]);
        const __m512i high = _mm512_load_si512(kTransposePicks.high[round]);
#pragma GCC unroll 16
        for (int i = 0; i < kLanes; ++i) {
          if (i & s) continue;
          const __m512 a = r[i], b = r[i + s];
          r[i] = _mm512_permutex2var_ps(a, low, b);
          r[i + s] = _mm512_permutex2var_ps(a, high, b);
        }
      }
#pragma GCC unroll 16
      for (int j = 0; j < kLanes; ++j) {
        if (j >= block_cols) break;
        float* to = dst + (c0 + j) * ld_dst + r0;
        const __m512 sum = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(written, to), r[j]) : r[j];
        _mm512_mask_storeu_ps(to, written, sum);
      }
#else
      for (int64_t j = c0; j < std::min(cols, c0 + kLanes); ++j) {
        for (int64_t i = r0; i < std::min(rows, r0 + kLanes); ++i) {
          float& to = dst[j * ld_dst + i];
          to = accumulate ? to + src[i * ld_src + j] : src[i * ld_src + j];
        }
      }
#endif
    }
  }
}

void interleave_images(float* blocks, const float* images, int64_t n, int64_t c, int64_t hw) {
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > kParallelElements)
  for (int64_t nb = 0; nb < n / kLanes; ++nb) {
    for (int64_t ch = 0; ch < c; ++ch) {
      transpose(blocks + (nb * c + ch) * hw * kLanes, kLanes, images + (nb * kLanes * c + ch) * hw, c * hw, kLanes, hw,
                false);
    }
  }
}

void deinterleave_images(float* images, const float* blocks, int64_t n, int64_t c, int64_t hw, bool accumulate) {
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > kParallelElements)
  for (int64_t nb = 0; nb < n / kLanes; ++nb) {
    for (int64_t ch = 0; ch < c; ++ch) {
      transpose(images + (nb * kLanes * c + ch) * hw, c * hw, blocks + (nb * c + ch) * hw * kLanes, kLanes, hw, kLanes,
                accumulate);
    }
  }
}

void interleave_padded_images(float* blocks, const float* images, int64_t n, int64_t c, int64_t h, int64_t w,
                              int64_t pad_h, int64_t pad_w, int64_t hp, int64_t wp) {
  const int64_t rows = std::clamp<int64_t>(hp - pad_h, 0, h), cols = std::clamp<int64_t>(wp - pad_w, 0, w);
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hp * wp > kParallelElements)
  for (int64_t nb = 0; nb < n / kLanes; ++nb) {
    for (int64_t ch = 0; ch < c; ++ch) {
      float* block = blocks + (nb * c + ch) * hp * wp * kLanes;
      const float* plane = images + (nb * kLanes * c + ch) * h * w;
      const auto zero = [&](int64_t y, int64_t x0, int64_t x1) {
        if (x1 > x0) std::memset(block + (y * wp + x0) * kLanes, 0, sizeof(float) * (x1 - x0) * kLanes);
      };
      for (int64_t y = 0; y < hp; ++y) {
        if (y < pad_h || y >= pad_h + rows) {
          zero(y, 0, wp);
          continue;
        }
        zero(y, 0, std::min(pad_w, wp));
        transpose(block + (y * wp + pad_w) * kLanes, kLanes, plane + (y - pad_h) * w, c * h * w, kLanes, cols, false);
        zero(y, pad_w + cols, wp);
      }
    }
  }
}

}  // namespace cfgan::cpu
