// The weight gradient dW[k][c][r][s] = sum over n, p, q of dout[n][k][p][q] *
// in[n][c][p * stride_h - pad_h + r][q * stride_w - pad_w + s], as dot products whose
// vectors run over 16 images at a time.
//
// As a GEMM (dout times the column matrix transposed) both operands have the summed
// dimension contiguous, so every panel is a transpose, and at DCGAN's 7x7 outputs the
// column matrix's rows are runs of 7: packing cost a fifth of the pass. With the batch
// interleaved 16 images per vector (kernels/cpu/image_lanes.h) and the input padded with
// zeros, every term is a whole vector at a fixed offset: a register tile of 6 output
// channels x 4 taps along a row keeps 24 sums of 16 lanes, and each step of the sum loads
// the 4 input vectors under the taps and the 6 dout vectors, for 24 FMAs. Each output's
// 16 lanes are added once, at the end of its sum over the batch and the output positions.
#include "kernels/cpu/conv_weight_gradient.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/cpu/image_lanes.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

constexpr int64_t kLanes = kImageLanes;

// The padded input's rows and columns: those the taps read, p * stride + r in padded
// coordinates.
int64_t padded_rows(const ConvGeom& g) { return (g.p - 1) * g.stride_h + g.r; }
int64_t padded_cols(const ConvGeom& g) { return (g.q - 1) * g.stride_w + g.s; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Steps of each sum (vectors of images times output positions) below which its final
// reduction outweighs it: DCGAN-32's first transposed convolution (1x1 to 4x4, 4 steps at
// batch 64) ran 1.5x slower than the GEMM; its 4x4 layers (64 steps) gain.
constexpr int64_t kMinSteps = 32;

#if defined(__AVX512F__)

// 24 sums + 4 input vectors + 1 dout vector of the 32 registers.
constexpr int kTileChannels = 6, kTileTaps = 4;

// Output channels are taken a block of tiles at a time over every input channel, and the
// batch 64 images at a time (the partial sums added up in dW), so that the block's dout
// (24 channels of 64 images: 300 KB at 7x7 outputs, 1.2 MB at 14x14) stays in or near L2
// while each input channel is read once per block, at any batch size.
constexpr int64_t kTilesPerBlock = 4;
constexpr int64_t kImageBlocksPerSum = 4;

// The operands, interleaved: x (N/16, C, hp, wp, 16) padded, dy (N/16, K, P*Q, 16); the
// sums run over their image blocks [first_block, end_block).
struct LaneOperands {
  const float* x;
  const float* dy;
  int64_t hp, wp, first_block, end_block;
};

// Lanes 0-3: the totals of the 16 lanes of a, b, c and d. Pairs are folded in halves
// until each 128-bit block holds four lanes of one sum, then within the blocks: 15
// instructions where four separate reductions take about 30.
__m512 four_totals(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
  // Blocks a, b, c, d: each the sum of its two 4-lane halves.
  __m512 v = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
  v = _mm512_add_ps(v, _mm512_permute_ps(v, 0x4E));
  v = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), v);
}

// dW[k0 + i][c][r][s0 + j] (+)= the sum for i < channels, j < taps.
template <int channels, int taps>
void tile_sums(float* dw, const LaneOperands& o, const ConvGeom& g, int64_t k0, int64_t c, int64_t r, int64_t s0,
               bool accumulate) {
  const int64_t pq = g.p * g.q, x_row = o.wp * kLanes;
  __m512 sum[channels][taps];
  for (int i = 0; i < channels; ++i) {
    for (int j = 0; j < taps; ++j) sum[i][j] = _mm512_setzero_ps();
  }
  for (int64_t nb = o.first_block; nb < o.end_block; ++nb) {
    const float* x_plane = o.x + ((nb * g.c + c) * o.hp + r) * x_row + s0 * kLanes;
    const float* dy_first = o.dy + (nb * g.k + k0) * pq * kLanes;
    for (int64_t p = 0; p < g.p; ++p) {
      const float* x_line = x_plane + p * g.stride_h * x_row;
      const float* dy_line = dy_first + p * g.q * kLanes;
      for (int64_t q = 0; q < g.q; ++q) {
        __m512 x[taps];
        for (int j = 0; j < taps; ++j) x[j] = _mm512_loadu_ps(x_line + (q * g.stride_w + j) * kLanes);
        for (int i = 0; i < channels; ++i) {
          __m512 dy = _mm512_loadu_ps(dy_line + (i * pq + q) * kLanes);
          // Loaded once into a register: folded into each FMA it would be loaded `taps` times.
          __asm__("" : "+v"(dy));
          for (int j = 0; j < taps; ++j) sum[i][j] = _mm512_fmadd_ps(dy, x[j], sum[i][j]);
        }
      }
    }
  }
  const __mmask16 lanes = static_cast<__mmask16>((1u << taps) - 1u);
  const __m512 zero = _mm512_setzero_ps();
  for (int i = 0; i < channels; ++i) {
    const __m512 totals = four_totals(sum[i][0], taps > 1 ? sum[i][1] : zero, taps > 2 ? sum[i][2] : zero,
                                      taps > 3 ? sum[i][3] : zero);
    float* to = dw + ((k0 + i) * g.c + c) * g.r * g.s + r * g.s + s0;
    _mm512_mask_storeu_ps(to, lanes, accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, to), totals) : totals);
  }
}

using TileSums = void (*)(float*, const LaneOperands&, const ConvGeom&, int64_t, int64_t, int64_t, int64_t, bool);

// kTiles[channels - 1][taps - 1], for the ragged last tiles.
template <int... c>
constexpr auto tile_table(std::integer_sequence<int, c...>) {
  return std::array<std::array<TileSums, kTileTaps>, sizeof...(c)>{
      {{tile_sums<c + 1, 1>, tile_sums<c + 1, 2>, tile_sums<c + 1, 3>, tile_sums<c + 1, 4>}...}};
}
constexpr auto kTiles = tile_table(std::make_integer_sequence<int, kTileChannels>{});

#endif

}  // namespace

bool lane_weight_gradient_applies(const ConvGeom& g) {
#if defined(__AVX512F__)
  return g.precision == MatmulPrecision::fp32 && g.n % kLanes == 0 && g.n > 0 && g.n / kLanes * g.p * g.q >= kMinSteps;
#else
  (void)g;
  return false;
#endif
}

int64_t lane_weight_gradient_workspace_floats(const ConvGeom& g) {
  return g.n * (g.c * padded_rows(g) * padded_cols(g) + g.k * g.p * g.q);
}

void lane_weight_gradient(float* dweight, const float* dout, const float* in, const ConvGeom& g, float* workspace,
                          bool accumulate) {
#if defined(__AVX512F__)
  const int64_t hp = padded_rows(g), wp = padded_cols(g);
  float* x = workspace;
  float* dy = x + g.n * g.c * hp * wp;
  interleave_padded_images(x, in, g.n, g.c, g.h, g.w, g.pad_h, g.pad_w, hp, wp);
  interleave_images(dy, dout, g.n, g.k, g.p * g.q);
  const int64_t channel_tiles = ceil_div(g.k, kTileChannels), blocks = ceil_div(channel_tiles, kTilesPerBlock);
  const int threads = static_cast<int>(std::clamp<int64_t>(g.n * g.p * g.q * g.k * g.c * g.r * g.s / kMinFmasPerThread,
                                                           1, std::min<int64_t>(blocks * g.c, omp_get_max_threads())));
  const int64_t channels_per_thread = ceil_div(g.c, threads);
  for (int64_t nb0 = 0; nb0 < g.n / kLanes; nb0 += kImageBlocksPerSum) {
    const LaneOperands o{x, dy, hp, wp, nb0, std::min(g.n / kLanes, nb0 + kImageBlocksPerSum)};
    const bool add = accumulate || nb0 > 0;
    // Chunks of ceil(C / threads) input channels: the threads share each block's channels,
    // so that each reads part of the input per block (with one channel, they share blocks).
#pragma omp parallel for collapse(2) schedule(static, channels_per_thread) num_threads(threads) if (threads > 1)
    for (int64_t b = 0; b < blocks; ++b) {
      for (int64_t c = 0; c < g.c; ++c) {
        for (int64_t t = b * kTilesPerBlock; t < std::min(channel_tiles, (b + 1) * kTilesPerBlock); ++t) {
          // Balanced tiles (128 channels: 18 of 6 and 4 of 5, not 21 of 6 and one of 2).
          const int64_t k0 = g.k * t / channel_tiles, channels = g.k * (t + 1) / channel_tiles - k0;
          for (int64_t r = 0; r < g.r; ++r) {
            for (int64_t s0 = 0; s0 < g.s; s0 += kTileTaps) {
              kTiles[channels - 1][std::min<int64_t>(kTileTaps, g.s - s0) - 1](dweight, o, g, k0, c, r, s0, add);
            }
          }
        }
      }
    }
  }
#else
  // Not reached: lane_weight_gradient_applies is false without AVX-512.
  (void)dweight, (void)dout, (void)in, (void)g, (void)workspace, (void)accumulate;
#endif
}

}  // namespace cfgan::cpu
