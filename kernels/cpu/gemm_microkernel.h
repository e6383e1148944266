// The GEMM micro-kernel: one register tile of C from one packed A micro-panel and one
// packed B micro-panel (layouts in kernels/cpu/gemm_pack.h), instantiated for every
// tile height 1..kTileRows and width 1..tile_vectors vectors, so edge tiles run the
// same code as full ones instead of a scalar clean-up loop.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/cpu/gemm_simd.h"

namespace cfgan::cpu::gemm_detail {

// f(0), ..., f(N-1) with compile-time indices: the accumulators are indexed only by
// constants, which is what lets the compiler keep them all in registers.
template <int N, class F>
[[gnu::always_inline]] inline void unrolled(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (f(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

// C (Rows x n_cols) = alpha * A B + beta * C over kc steps, where a is [kc][Rows] and
// step k of B is the Vectors * width floats at b + k * ldb, zero beyond n_cols (a packed
// panel, or whole columns of the caller's B). Partial: n_cols < Vectors * width, so the
// last vector of each row is stored through a mask. beta == 0 never reads C, so garbage
// (NaN) there cannot leak into the result. Step (gemm_simd.h) is what one step of k does:
// an FMA of FP32 values, or a dot product of BF16 pairs whose panels hold two of k per word.
template <int Rows, int Vectors, bool Partial, class Step>
void micro_kernel(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int n_cols,
                  float alpha, float beta) {
  using V = Simd::V;
  constexpr int W = Simd::width;
  // Small-k products spend much of their time on C; start its lines on their way. A row
  // of the tile may straddle one line more than it has vectors (ldc is arbitrary), so
  // the prefetches are a vector apart plus one at the row's last float.
  unrolled<Rows>([&](auto i) {
    unrolled<Vectors + 1>([&](auto v) { __builtin_prefetch(c + i * ldc + std::min(v * W, Vectors * W - 1)); });
  });

  V acc[Rows][Vectors];
  unrolled<Rows>([&](auto i) { unrolled<Vectors>([&](auto v) { acc[i][v] = Simd::zero(); }); });
  for (int64_t p = 0; p < kc; ++p) {
    V bv[Vectors];
    unrolled<Vectors>([&](auto v) { bv[v] = Simd::load(b + v * W); });
    unrolled<Rows>([&](auto i) {
      const V ai = Simd::broadcast(a + i);
      unrolled<Vectors>([&](auto v) { acc[i][v] = Step::apply(ai, bv[v], acc[i][v]); });
    });
    a += Rows;
    b += ldb;
  }

  // Two straight-line stores, chosen once, so that no branch sits between accumulators.
  const int last_lanes = n_cols - (Vectors - 1) * W;
  const V va = Simd::set1(alpha);
  const auto store = [&]<bool ReadC>(V vb) {
    unrolled<Rows>([&](auto i) {
      unrolled<Vectors>([&](auto v) {
        float* p = c + i * ldc + v * W;
        constexpr bool masked = Partial && v == Vectors - 1;
        V x = Simd::mul(acc[i][v], va);
        if constexpr (ReadC) x = Simd::fma(masked ? Simd::load_first(p, last_lanes) : Simd::load(p), vb, x);
        if constexpr (masked) {
          Simd::store_first(p, x, last_lanes);
        } else {
          Simd::store(p, x);
        }
      });
    });
  };
  if (beta == 0.0f) {
    store.template operator()<false>(va);
  } else {
    store.template operator()<true>(Simd::set1(beta));
  }
}

using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int n_cols,
                             float alpha, float beta);

// [vectors - 1][partial]: the kernels for one tile height.
template <class Step, int Rows, int... V>
constexpr std::array<std::array<MicroKernel, 2>, sizeof...(V)> micro_kernel_row(std::integer_sequence<int, V...>) {
  return {std::array<MicroKernel, 2>{&micro_kernel<Rows, V + 1, false, Step>,
                                     &micro_kernel<Rows, V + 1, true, Step>}...};
}

template <class Step, int... R>
constexpr auto micro_kernel_table(std::integer_sequence<int, R...>) {
  return std::array{micro_kernel_row<Step, R + 1>(std::make_integer_sequence<int, Simd::tile_vectors>{})...};
}

// kMicroKernels[rows - 1][vectors - 1][partial last vector]
inline constexpr auto kMicroKernels = micro_kernel_table<FmaStep>(std::make_integer_sequence<int, kTileRows>{});
#if defined(__AVX512BF16__)
inline constexpr auto kBf16PairMicroKernels =
    micro_kernel_table<Bf16PairStep>(std::make_integer_sequence<int, kTileRows>{});
#endif

}  // namespace cfgan::cpu::gemm_detail
