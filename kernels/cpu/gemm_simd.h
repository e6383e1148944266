// The SIMD vector the GEMM micro-kernel is written over, and the register tile it
// fills, chosen at compile time from the target ISA (the build uses -march=native).
// Each vector type offers the same few operations, so kernels/cpu/gemm_microkernel.h
// is written once.
//
// Tile shapes (rows x columns of C held in registers):
// - AVX-512: 14 x 32 = 28 accumulators + 2 B vectors of the 32 zmm registers; A
//   values are broadcast straight from memory as an FMA operand. Each k step issues
//   28 FMAs against 16 loads, under the two-loads-per-cycle limit.
// - AVX2: 6 x 16 = 12 accumulators + 2 B vectors + 1 broadcast of the 16 ymm.
// - portable: 4 x 16, plain arrays the compiler may vectorise.
#pragma once

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace cfgan::cpu::gemm_detail {

#if defined(__AVX512F__)

struct Simd {
  using V = __m512;
  static constexpr int width = 16;
  static constexpr int tile_rows = 14;
  static constexpr int tile_vectors = 2;

  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  // The first n lanes (0 < n <= width); the other lanes are neither read nor written.
  static V load_first(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_first(float* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  // Halves, quarters, pairs, neighbours. Zero-masked shuffles with a full mask compile
  // to the plain instructions; the unmasked intrinsics (and _mm512_reduce_add_ps) trip
  // GCC 12's false -Wuninitialized on their undefined pass-through operand (GCC PR 105593).
  static float sum(V v) {
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_ps(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_maskz_shuffle_ps(0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(v);
  }

 private:
  static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
};

#elif defined(__AVX2__) && defined(__FMA__)

struct Simd {
  using V = __m256;
  static constexpr int width = 8;
  static constexpr int tile_rows = 6;
  static constexpr int tile_vectors = 2;

  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_first(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store_first(float* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static float sum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }

 private:
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};

#else

struct Simd {
  struct V {
    float x[8];
  };
  static constexpr int width = 8;
  static constexpr int tile_rows = 4;
  static constexpr int tile_vectors = 2;

  static V zero() { return set1(0.0f); }
  static V set1(float s) {
    V v;
    for (float& x : v.x) x = s;
    return v;
  }
  static V load(const float* p) { return load_first(p, width); }
  static V broadcast(const float* p) { return set1(*p); }
  static V mul(V a, V b) {
    for (int i = 0; i < width; ++i) a.x[i] *= b.x[i];
    return a;
  }
  static V fma(V a, V b, V c) {
    for (int i = 0; i < width; ++i) c.x[i] += a.x[i] * b.x[i];
    return c;
  }
  static void store(float* p, V v) { store_first(p, v, width); }
  static V load_first(const float* p, int n) {
    V v = zero();
    for (int i = 0; i < n; ++i) v.x[i] = p[i];
    return v;
  }
  static void store_first(float* p, V v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v.x[i];
  }
  static float sum(V v) {
    float s = 0.0f;
    for (float x : v.x) s += x;
    return s;
  }
};

#endif

// What one k step of the micro-kernel does to an accumulator: an FMA of one A value
// (broadcast) and one B vector.
struct FmaStep {
  static Simd::V apply(Simd::V a, Simd::V b, Simd::V acc) { return Simd::fma(a, b, acc); }
};

#if defined(__AVX512BF16__)
// With AVX-512 BF16, one step covers two of k: each 32-bit word of A and B holds two BF16
// operands (gemm_pack.h's pack_bf16_pairs), and vdpbf16ps adds both products to the FP32
// accumulator, twice the FMA's multiply-adds per instruction. It adds the high half's
// product first, each sum rounded to nearest even, and a product of two BF16 values is
// exact in FP32: with k's earlier step in the high half, a pair step is the two FMA steps
// bit for bit, except that subnormal operands and sums are flushed to zero.
constexpr bool kBf16Pairs = true;
struct Bf16PairStep {
  static Simd::V apply(Simd::V a, Simd::V b, Simd::V acc) {
    return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(a), reinterpret_cast<__m512bh>(b));
  }
};
#else
constexpr bool kBf16Pairs = false;
#endif

// Columns of one packed B micro-panel, and the most rows of one packed A micro-panel.
constexpr int kTileCols = Simd::width * Simd::tile_vectors;
constexpr int kTileRows = Simd::tile_rows;

}  // namespace cfgan::cpu::gemm_detail
