// Winograd convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016) for 4x4 kernels at stride 2 and padding 1: the forward, the input gradient and the
// weight gradient.
//
// Split by parity, such a convolution is four 2x2 stride-1 correlations summed. For phase
// (py, px) in {0, 1}^2, with the input 0 outside the image,
//   out[oy][ox] = sum over phases and jy, jx in {0, 1} of f[jy][jx] * s[oy + jy][ox + jx],
//   f[jy][jx] = w[2jy + py][2jx + px],   s[ty][tx] = in[2ty - 1 + py][2tx - 1 + px].
// Minimal filtering F(4x4, 2x2) computes a 4x4 block of such a correlation from a 5x5
// block d of s with 25 products instead of 64: Y = A^T [(G f G^T) . (B^T d B)] A, and the
// sum over phases and channels of the 25 products is 25 GEMMs. So a pass runs 25/64 of
// the direct multiply-adds, plus transforms that are linear in the data:
// - forward: (B^T d B) per tile, channel and phase, (G f G^T) per filter phase, for each
//   of the 25 points xi the product (K, 4C) x (4C, tiles), out = A^T M A per tile;
// - input gradient: the gradient of s is the full correlation of dout with each phase's
//   filter flipped, a 2x2 stride-1 correlation over dout padded by one, landing on din
//   at rows 2t - 1 + py: 25 products (4C, K) x (K, tiles) where the four phases can share
//   tiles, else 4 x 25 products (C, K) x (K, tiles) over tiles aligned per phase
//   (winograd_backward_input says when);
// - weight gradient: the adjoint of the forward's products, 25 products (K, tiles) x
//   (tiles, 4C) summed over every tile of the batch, then G^T dU G per filter phase.
// Interpolation points 0, 1, -1, 2, -2; the rows of B^T are scaled to small integers and
// G carries the inverse scales. Errors measured against double sums are 3-4x the direct
// FP32 path's (tests/test_conv_winograd.cpp).
#include "kernels/cpu/conv_winograd.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/image_lanes.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

constexpr int64_t kLanes = kImageLanes;  // floats per vector: 16 channels or 16 images
constexpr int64_t kPoints = 25;  // products per tile (5 x 5 interpolation points)

using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

void load(Vec& v, const float* p) { std::memcpy(&v, p, sizeof v); }
void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The 1-D transforms, n points in to m out.
// B^T (5 -> 5), the data transform.
void data_1d(const Vec* d, Vec* t) {
  t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
  t[1] = 4.0f * (d[1] + d[2]) - (d[3] + d[4]);
  t[2] = 4.0f * (d[2] - d[1]) + (d[3] - d[4]);
  t[3] = 2.0f * (d[3] - d[1]) + (d[4] - d[2]);
  t[4] = 2.0f * (d[1] - d[3]) + (d[4] - d[2]);
}

// G (2 -> 5), a 2-tap filter for F(4, 2).
void filter_1d(const Vec* f, Vec* t) {
  t[0] = f[0] * 0.25f;
  t[1] = (f[0] + f[1]) * (1.0f / 6.0f);
  t[2] = (f[0] - f[1]) * (1.0f / 6.0f);
  t[3] = (f[0] + 2.0f * f[1]) * (1.0f / 24.0f);
  t[4] = (f[0] - 2.0f * f[1]) * (1.0f / 24.0f);
}

// A^T (5 -> 4), the 4 outputs of F(4, 2).
void output_1d(const Vec* m, Vec* y) {
  const Vec sum12 = m[1] + m[2], diff12 = m[1] - m[2], sum34 = m[3] + m[4], diff34 = m[3] - m[4];
  y[0] = m[0] + sum12 + sum34;
  y[1] = diff12 + 2.0f * diff34;
  y[2] = sum12 + 4.0f * sum34;
  y[3] = diff12 + 8.0f * diff34;
}

// The weight gradient runs the forward's transforms backwards, through their adjoints.
// A (4 -> 5), the adjoint of A^T: a tile's 4 output gradients to the 5 points.
void tile_gradient_1d(const Vec* y, Vec* m) {
  const Vec even = y[0] + y[2], odd = y[1] + y[3], even4 = y[0] + 4.0f * y[2], odd8 = 2.0f * y[1] + 8.0f * y[3];
  m[0] = y[0];
  m[1] = even + odd;
  m[2] = even - odd;
  m[3] = even4 + odd8;
  m[4] = even4 - odd8;
}

// G^T (5 -> 2), the adjoint of G: the 5 points' gradients to a 2-tap filter's.
void filter_gradient_1d(const Vec* u, Vec* f) {
  f[0] = u[0] * 0.25f + (u[1] + u[2]) * (1.0f / 6.0f) + (u[3] + u[4]) * (1.0f / 24.0f);
  f[1] = (u[1] - u[2]) * (1.0f / 6.0f) + (u[3] - u[4]) * (1.0f / 12.0f);
}

// y (m x m) = T x T^T for the 1-D transform T of `along` (n x n in, row-major): columns first.
template <int n, int m, void (*along)(const Vec*, Vec*)>
void transform_2d(const Vec* x, Vec* y) {
  Vec half[m * n], column[n], part[m];
  for (int b = 0; b < n; ++b) {
    for (int a = 0; a < n; ++a) column[a] = x[a * n + b];
    along(column, part);
    for (int u = 0; u < m; ++u) half[u * n + b] = part[u];
  }
  for (int u = 0; u < m; ++u) along(half + u * n, y + u * m);
}

// The forward and the input gradient run on copies of their operands with 16 images
// interleaved (interleave_images): a vector holds one pixel of 16 images, so the data
// transforms read contiguous vectors with no bounds test per lane (the 16 images' tiles
// sit at the same place), and one channel's plane of them is one contiguous block.
// The 4x4 output tiles are th x tw positions per image; slot (image block, position, lane)
// counts the lanes fastest, and chunks of kChunk slots, one B micro-panel of the products
// wide, are the unit of work: a thread transforms a chunk's data straight into that panel,
// runs the 25 products against the transformed filters (packed once per call), and
// transforms the results out while the chunk is still in its L2.
struct Tiles {
  int64_t th, tw, slots;  // slots = th * tw * N
};

Tiles output_tiles(const ConvGeom& g) {
  const int64_t th = ceil_div(g.p, 4), tw = ceil_div(g.q, 4);
  return {th, tw, th * tw * g.n};
}

constexpr int64_t kChunk = 32;
static_assert(kChunk % gemm_detail::kTileCols == 0 && kChunk % kLanes == 0);

// One vector's 16 slots: image block nb at tile position (ty, tx). Past the last slot,
// `live` is false.
struct Slots {
  int64_t ty, tx, nb;
  bool live;
};

Slots vector_slots(const Tiles& t, int64_t first) {
  const int64_t positions = t.th * t.tw, position = first / kLanes % positions;
  return {position / t.tw, position % t.tw, first / kLanes / positions, first < t.slots};
}

// The products' row panels are 8 rows high (4 where the micro-kernel is smaller), so that
// a vector of 16 transformed filter rows fills whole panels: the filter transforms write
// the packed layout directly. An 8 x 32 tile is still bound by its 16 FMAs per step of k,
// not by its 10 loads.
constexpr int64_t kPanelRows = gemm_detail::kTileRows >= 8 ? 8 : 4;
static_assert(kLanes % kPanelRows == 0);

// The 25 points' blocks of each transformed operand are a cache line more than their size
// apart: the transforms touch all 25 at once, and 25 blocks a power of two apart would
// share one set of the L1 cache.
int64_t padded(int64_t floats) { return floats + kLanes; }

// Rows [r0, r0 + 16) at step s of one block of packed row panels over kc steps.
void store_rows(float* block, int64_t kc, int64_t r0, int64_t s, const Vec& v) {
  for (int64_t h = 0; h < kLanes; h += kPanelRows) {
    std::memcpy(block + ((r0 + h) / kPanelRows * kc + s) * kPanelRows, reinterpret_cast<const float*>(&v) + h,
                sizeof(float) * kPanelRows);
  }
}

// c[i] (rows, kChunk) = a[i] (rows, kc) b[i] (kc, kChunk) for i < 25: a[i] packed row panels
// (store_rows) a_stride apart, b[i] and c[i] padded() apart.
void chunk_products(float* c, const float* a, int64_t a_stride, const float* b, int64_t rows, int64_t kc) {
  using namespace gemm_detail;
  const MicroKernel kernel = kMicroKernels[kPanelRows - 1][kTileCols / Simd::width - 1][false];
  for (int64_t i = 0; i < kPoints; ++i) {
    for (int64_t r0 = 0; r0 < rows; r0 += kPanelRows) {
      for (int64_t q = 0; q < kChunk; q += kTileCols) {
        kernel(kc, a + i * a_stride + r0 * kc, b + i * padded(kc * kChunk) + q, kChunk,
               c + i * padded(rows * kChunk) + r0 * kChunk + q, kChunk, kTileCols, 1.0f, 0.0f);
      }
    }
  }
}

// (G f G^T)[xi] of the 2x2 taps f (16 filters per vector) as rows [r0, r0 + 16) at step s
// of each point's block of packed panels, blocks `block` floats apart.
void store_filter_points(const Vec (&f)[4], float* a, int64_t block, int64_t kc, int64_t r0, int64_t s) {
  Vec out[kPoints];
  transform_2d<2, 5, filter_1d>(f, out);
  for (int64_t xi = 0; xi < kPoints; ++xi) store_rows(a + xi * block, kc, r0, s, out[xi]);
}

// The 16 taps of 16 filters as vectors: taps[t * 16 + i] = first[i * stride + t] (tap t = r * 4 + s),
// one 16 x 16 transpose instead of a 16-lane gather per tap.
void filter_taps(float (&taps)[16 * kLanes], const float* first, int64_t stride) {
  transpose(taps, kLanes, first, stride, kLanes, 16, false);
}

// The forward's filters: a[xi] (K rows, 4C steps) = (G f G^T)[xi] for phase ph's 2x2 taps f
// of filter (k, c) at step ph * C + c, 16 output channels per vector.
void transform_filters_forward(float* a, const float* w, const ConvGeom& g) {
  const int64_t steps = 4 * g.c;
#pragma omp parallel for collapse(2) schedule(static) if (kPoints * 4 * g.k * g.c > kParallelElements)
  for (int64_t k0 = 0; k0 < g.k; k0 += kLanes) {
    for (int64_t c = 0; c < g.c; ++c) {  // along the 16 filters' rows, and the steps of their panels
      float taps[16 * kLanes];
      filter_taps(taps, w + (k0 * g.c + c) * 16, g.c * 16);
      for (int64_t ph = 0; ph < 4; ++ph) {
        const int64_t py = ph / 2, px = ph % 2;
        Vec f[4];
        for (int64_t j = 0; j < 4; ++j) load(f[j], taps + ((j / 2 * 2 + py) * 4 + j % 2 * 2 + px) * kLanes);
        store_filter_points(f, a, padded(g.k * steps), steps, k0, ph * g.c + c);
      }
    }
  }
}

// The input gradient's filters: a[xi] (4C rows, K steps) = (G f G^T)[xi] for phase ph's taps
// flipped, f[jy][jx] = w[2(1 - jy) + py][2(1 - jx) + px], at row ph * C + c, 16 input
// channels per vector. Rows of one phase are whole panels, so each phase's C rows are a
// product's A too.
void transform_filters_input_gradient(float* a, const float* w, const ConvGeom& g) {
#pragma omp parallel for collapse(2) schedule(static) if (kPoints * 4 * g.k * g.c > kParallelElements)
  for (int64_t c0 = 0; c0 < g.c; c0 += kLanes) {
    for (int64_t k = 0; k < g.k; ++k) {  // along the steps of the panels
      float taps[16 * kLanes];
      filter_taps(taps, w + (k * g.c + c0) * 16, 16);
      for (int64_t ph = 0; ph < 4; ++ph) {
        const int64_t py = ph / 2, px = ph % 2;
        Vec f[4];
        for (int64_t j = 0; j < 4; ++j) {
          const int64_t ry = 1 - j / 2, rx = 1 - j % 2;
          load(f[j], taps + ((2 * ry + py) * 4 + 2 * rx + px) * kLanes);
        }
        store_filter_points(f, a, padded(4 * g.c * g.k), g.k, ph * g.c + c0, k);
      }
    }
  }
}

// v = pixel (y, x) of an interleaved plane (H, W, 16), 0 outside.
void load_pixel(Vec& v, const float* plane, int64_t y, int64_t x, int64_t h, int64_t w) {
  if (y >= 0 && y < h && x >= 0 && x < w) {
    load(v, plane + (y * w + x) * kLanes);
  } else {
    v = Vec{};
  }
}

// out = B^T d B for d the 5x5 block of phase ph under tile (ty, tx) of one plane (H, W, 16)
// of 16 images or 16 channels: d[a][b] = plane[8ty - 1 + 2a + py][8tx - 1 + 2b + px].
void transform_input_block(Vec (&out)[kPoints], const float* plane, int64_t ty, int64_t tx, int64_t ph,
                           const ConvGeom& g) {
  const int64_t y0 = 8 * ty - 1 + ph / 2, x0 = 8 * tx - 1 + ph % 2;
  Vec d[kPoints];
  for (int64_t i = 0; i < kPoints; ++i) load_pixel(d[i], plane, y0 + 2 * (i / 5), x0 + 2 * (i % 5), g.h, g.w);
  transform_2d<5, 5, data_1d>(d, out);
}

// b[xi][ph * C + c][slot] = (B^T d B)[xi] for d the 5x5 block of phase ph of channel c under
// the slot's tile: d[a][b] = in[8ty - 1 + 2a + py][8tx - 1 + 2b + px]; `in` interleaved.
void transform_input_chunk(float* b, const float* in, const ConvGeom& g, const Tiles& t, int64_t first) {
  const int64_t steps = 4 * g.c, plane = g.h * g.w * kLanes;
  for (int64_t c = 0; c < g.c; ++c) {  // channel outermost: the chunk reads one or two planes at a time
    for (int64_t lane0 = 0; lane0 < kChunk; lane0 += kLanes) {
      const Slots at = vector_slots(t, first + lane0);
      for (int64_t ph = 0; ph < 4; ++ph) {
        Vec out[kPoints] = {};
        if (at.live) transform_input_block(out, in + (at.nb * g.c + c) * plane, at.ty, at.tx, ph, g);
        for (int64_t xi = 0; xi < kPoints; ++xi) {
          store(b + xi * padded(steps * kChunk) + (ph * g.c + c) * kChunk + lane0, out[xi]);
        }
      }
    }
  }
}

// b[xi][k][slot] = (B^T d B)[xi] for d the 5x5 block of dout channel k that an input-gradient
// tile reads: d[a][b] = dout[4ty + a - shift.y][4tx + b - shift.x]; `dout` interleaved.
struct Shift {
  int64_t y, x;
};

void transform_dout_chunk(float* b, const float* dout, const ConvGeom& g, const Tiles& t, int64_t first,
                          Shift shift) {
  const int64_t plane = g.p * g.q * kLanes;
  for (int64_t k = 0; k < g.k; ++k) {
    for (int64_t lane0 = 0; lane0 < kChunk; lane0 += kLanes) {
      const Slots at = vector_slots(t, first + lane0);
      const int64_t y0 = 4 * at.ty - shift.y, x0 = 4 * at.tx - shift.x;
      Vec d[kPoints], out[kPoints];
      for (int64_t i = 0; i < kPoints; ++i) {
        if (!at.live) d[i] = Vec{};
        else load_pixel(d[i], dout + (at.nb * g.k + k) * plane, y0 + i / 5, x0 + i % 5, g.p, g.q);
      }
      transform_2d<5, 5, data_1d>(d, out);
      for (int64_t xi = 0; xi < kPoints; ++xi) store(b + xi * padded(g.k * kChunk) + k * kChunk + lane0, out[xi]);
    }
  }
}

// out[k][4ty + i][4tx + j] = (A^T M A)[i][j] for the chunk's live slots, inside P x Q;
// `out` interleaved.
void output_chunk_forward(float* out, const float* m, const ConvGeom& g, const Tiles& t, int64_t first) {
  const int64_t plane = g.p * g.q * kLanes;
  for (int64_t k = 0; k < g.k; ++k) {
    for (int64_t lane0 = 0; lane0 < kChunk; lane0 += kLanes) {
      const Slots at = vector_slots(t, first + lane0);
      if (!at.live) continue;
      const int64_t rows = std::min<int64_t>(4, g.p - 4 * at.ty), cols = std::min<int64_t>(4, g.q - 4 * at.tx);
      Vec sums[kPoints], y[16];
      for (int64_t xi = 0; xi < kPoints; ++xi) load(sums[xi], m + xi * padded(g.k * kChunk) + k * kChunk + lane0);
      transform_2d<5, 4, output_1d>(sums, y);
      float* corner = out + (at.nb * g.k + k) * plane + (4 * at.ty * g.q + 4 * at.tx) * kLanes;
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) store(corner + (i * g.q + j) * kLanes, y[i * 4 + j]);
      }
    }
  }
}

// Output (i, j) of one phase's tile at (ty, tx), read from rows [0, C) of m (whose blocks
// hold `rows` rows each), is the gradient of input pixel (8ty + 2i + at.y, 8tx + 2j + at.x),
// where that lies inside the image; `din` interleaved.
void output_chunk_input_gradient(float* din, const float* m, int64_t rows, const ConvGeom& g, const Tiles& t,
                                 int64_t first, Shift at_pixel) {
  const int64_t plane = g.h * g.w * kLanes;
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t lane0 = 0; lane0 < kChunk; lane0 += kLanes) {
      const Slots at = vector_slots(t, first + lane0);
      if (!at.live) continue;
      Vec sums[kPoints], y[16];
      for (int64_t xi = 0; xi < kPoints; ++xi) load(sums[xi], m + xi * padded(rows * kChunk) + c * kChunk + lane0);
      transform_2d<5, 4, output_1d>(sums, y);
      float* image = din + (at.nb * g.c + c) * plane;
      for (int64_t i = 0; i < 4; ++i) {
        const int64_t row = 8 * at.ty + 2 * i + at_pixel.y;
        if (row < 0 || row >= g.h) continue;
        for (int64_t j = 0; j < 4; ++j) {
          const int64_t col = 8 * at.tx + 2 * j + at_pixel.x;
          if (col >= 0 && col < g.w) store(image + (row * g.w + col) * kLanes, y[i * 4 + j]);
        }
      }
    }
  }
}

// A chunk's transformed data and products, per thread (grow-only: steady-state calls
// allocate nothing).
struct ChunkBuffers {
  std::vector<float> data, sums;
};

ChunkBuffers& chunk_buffers(int64_t data_floats, int64_t sum_floats) {
  thread_local ChunkBuffers buffers;
  if (static_cast<int64_t>(buffers.data.size()) < data_floats) buffers.data.resize(data_floats);
  if (static_cast<int64_t>(buffers.sums.size()) < sum_floats) buffers.sums.resize(sum_floats);
  return buffers;
}

// Threads for `chunks` chunks of `fmas_per_chunk` multiply-adds each.
int chunk_threads(int64_t chunks, int64_t fmas_per_chunk) {
  return static_cast<int>(std::clamp<int64_t>(chunks * fmas_per_chunk / kMinFmasPerThread, 1,
                                              std::min<int64_t>(chunks, omp_get_max_threads())));
}

// The workspace's parts, taken in order.
struct Parts {
  float* next;
  float* take(int64_t floats) {
    float* at = next;
    next += floats;
    return at;
  }
};

// The weight gradient is the adjoint of the forward's products: with E = A dY A^T the 25
// points of an output tile's gradient and V = B^T d B the forward's transformed input tile,
// dU[xi] (K, 4C) = sum over tiles of E[xi] V[xi]^T, and each phase's 2x2 taps get
// G^T dU G. The sums run over every tile of the batch, so both transformed operands are
// written for many images at once (kImagesPerSum), with 16 channels (not images) per
// vector: then a tile's transforms are rows of the 25 GEMMs, whose reduction runs over the
// tiles.

// Channel-interleaved copies, (N, C/16, H, W, 16): interleave_images over N * C "images"
// of one channel each.
void interleave_channels(float* blocks, const float* images, int64_t n, int64_t c, int64_t hw) {
  interleave_images(blocks, images, n * c, 1, hw);
}

// Tile (ty, tx) of image n, slot n * th * tw + ty * tw + tx.
struct TileAt {
  int64_t n, ty, tx;
};

TileAt tile_at(const Tiles& t, int64_t slot) {
  const int64_t positions = t.th * t.tw, position = slot % positions;
  return {slot / positions, position / t.tw, position % t.tw};
}

// v[xi][slot][ph * C + c] = (B^T d B)[xi] of channel c's block under the slot's tile
// (transform_input_block); `in` channel-interleaved.
void transform_input_tiles(float* v, const float* in, const ConvGeom& g, const Tiles& t, int threads) {
  const int64_t cols = 4 * g.c, blocks = g.c / kLanes, plane = g.h * g.w * kLanes;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t slot = 0; slot < t.slots; ++slot) {
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const TileAt at = tile_at(t, slot);
      const float* image = in + (at.n * blocks + cb) * plane;
      for (int64_t ph = 0; ph < 4; ++ph) {
        Vec out[kPoints];
        transform_input_block(out, image, at.ty, at.tx, ph, g);
        float* row = v + slot * cols + ph * g.c + cb * kLanes;
        for (int64_t xi = 0; xi < kPoints; ++xi) store(row + xi * padded(t.slots * cols), out[xi]);
      }
    }
  }
}

// e[xi] (K rows in packed panels, one step per slot) = (A dY A^T)[xi], dY the slot's 4x4
// output-gradient tile, 0 past P x Q; `dout` channel-interleaved.
void transform_dout_tiles(float* e, const float* dout, const ConvGeom& g, const Tiles& t, int threads) {
  const int64_t blocks = g.k / kLanes, plane = g.p * g.q * kLanes;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t slot = 0; slot < t.slots; ++slot) {
    for (int64_t kb = 0; kb < blocks; ++kb) {
      const TileAt at = tile_at(t, slot);
      const float* image = dout + (at.n * blocks + kb) * plane;
      Vec y[16], out[kPoints];
      for (int64_t i = 0; i < 16; ++i) load_pixel(y[i], image, 4 * at.ty + i / 4, 4 * at.tx + i % 4, g.p, g.q);
      transform_2d<4, 5, tile_gradient_1d>(y, out);
      for (int64_t xi = 0; xi < kPoints; ++xi) {
        store_rows(e + xi * padded(g.k * t.slots), t.slots, kb * kLanes, slot, out[xi]);
      }
    }
  }
}

// Images whose tiles are transformed and summed at a time, the partial sums added in dU:
// at batch 256 the transformed operands of the whole batch (39 MB at DCGAN's 7x7 layer)
// would outgrow L3.
constexpr int64_t kImagesPerSum = 64;

// Slots per block of the products' reduction: a 32-column strip of v over a block (32 KB)
// stays in L1 while every row panel of e runs over it.
constexpr int64_t kSlotsPerBlock = 256;

// du[xi] (K, 4C) (+)= e[xi] v[xi]^T over all slots, for the 25 points.
void weight_gradient_products(float* du, const float* e, const float* v, const ConvGeom& g, int64_t slots,
                              bool accumulate, int threads) {
  using namespace gemm_detail;
  const MicroKernel kernel = kMicroKernels[kPanelRows - 1][kTileCols / Simd::width - 1][false];
  const int64_t cols = 4 * g.c, strips = cols / kTileCols;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t xi = 0; xi < kPoints; ++xi) {
    for (int64_t strip = 0; strip < strips; ++strip) {
      const float* e_xi = e + xi * padded(g.k * slots);
      const float* v_strip = v + xi * padded(slots * cols) + strip * kTileCols;
      float* du_strip = du + xi * padded(g.k * cols) + strip * kTileCols;
      for (int64_t s0 = 0; s0 < slots; s0 += kSlotsPerBlock) {
        const int64_t steps = std::min(kSlotsPerBlock, slots - s0);
        for (int64_t r0 = 0; r0 < g.k; r0 += kPanelRows) {
          kernel(steps, e_xi + r0 * slots + s0 * kPanelRows, v_strip + s0 * cols, cols,
                 du_strip + r0 * cols, cols, kTileCols, 1.0f, accumulate || s0 > 0 ? 1.0f : 0.0f);
        }
      }
    }
  }
}

// dweight[k][c][2jy + py][2jx + px] (+)= (G^T dU G)[jy][jx] of phase (py, px), from
// du[xi][k][ph * C + c]; 16 input channels per vector, their 16 taps put in place by one
// 16 x 16 transpose.
void filter_gradients(float* dweight, const float* du, const ConvGeom& g, bool accumulate, int threads) {
  const int64_t cols = 4 * g.c;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t k = 0; k < g.k; ++k) {
    for (int64_t c0 = 0; c0 < g.c; c0 += kLanes) {
      float taps[16 * kLanes];
      for (int64_t ph = 0; ph < 4; ++ph) {
        const int64_t py = ph / 2, px = ph % 2;
        Vec u[kPoints], f[4];
        for (int64_t xi = 0; xi < kPoints; ++xi) load(u[xi], du + xi * padded(g.k * cols) + k * cols + ph * g.c + c0);
        transform_2d<5, 2, filter_gradient_1d>(u, f);
        for (int64_t j = 0; j < 4; ++j) store(taps + ((j / 2 * 2 + py) * 4 + j % 2 * 2 + px) * kLanes, f[j]);
      }
      transpose(dweight + (k * g.c + c0) * 16, 16, taps, kLanes, 16, kLanes, accumulate);
    }
  }
}

}  // namespace

bool winograd_applies(const ConvGeom& g) {
  return g.r == 4 && g.s == 4 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 1 && g.pad_w == 1 &&
         g.h % 2 == 0 && g.w % 2 == 0 && g.p == g.h / 2 && g.q == g.w / 2 && g.n % kLanes == 0 &&
         g.c % kLanes == 0 && g.k % kLanes == 0 && g.precision == MatmulPrecision::fp32;
}

int64_t winograd_workspace_floats(const ConvGeom& g) {
  const int64_t image = g.c * g.h * g.w + g.k * g.p * g.q;  // an image's interleaved operand and result
  ConvGeom group = g;
  group.n = std::min(g.n, kImagesPerSum);
  const int64_t slots = output_tiles(group).slots;
  const int64_t weight_gradient = kPoints * (padded(slots * 4 * g.c) + padded(g.k * slots)) + group.n * image;
  return kPoints * padded(4 * g.c * g.k) + std::max(g.n * image, weight_gradient);
}

void winograd_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace) {
  const Tiles t = output_tiles(g);
  const int64_t steps = 4 * g.c, chunks = ceil_div(t.slots, kChunk), image_in = g.c * g.h * g.w;
  const int64_t image_out = g.k * g.p * g.q;
  Parts parts{workspace};
  float* a = parts.take(kPoints * padded(g.k * steps));
  transform_filters_forward(a, weight, g);
  float* in_last = parts.take(g.n * image_in);
  float* out_last = parts.take(g.n * image_out);
  interleave_images(in_last, in, g.n, g.c, g.h * g.w);
  const int threads = chunk_threads(chunks, kPoints * g.k * steps * kChunk);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    ChunkBuffers& buf = chunk_buffers(kPoints * padded(steps * kChunk), kPoints * padded(g.k * kChunk));
    transform_input_chunk(buf.data.data(), in_last, g, t, chunk * kChunk);
    chunk_products(buf.sums.data(), a, padded(g.k * steps), buf.data.data(), g.k, steps);
    output_chunk_forward(out_last, buf.sums.data(), g, t, chunk * kChunk);
  }
  deinterleave_images(out, out_last, g.n, g.k, g.p * g.q, false);
}

void winograd_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                             float* workspace, bool accumulate) {
  const Tiles t = output_tiles(g);
  const int64_t filter_stride = padded(4 * g.c * g.k), chunks = ceil_div(t.slots, kChunk);
  const int64_t image_in = g.c * g.h * g.w, image_out = g.k * g.p * g.q;
  // The gradient of phase py's plane s is wanted at rows t in [0, P]: t = 0 is din row -1
  // for py = 0 and t = P is row H for py = 1. Where P and Q are 3 more than a multiple of
  // 4, tiles over [0, P] all the phases at once (one data transform and one set of 25
  // products for all four) cost no more tiles than a set per phase aligned to the rows
  // that exist, which the other sizes need (at P = 8, 3 tiles against 2).
  const bool shared = g.p % 4 == 3 && g.q % 4 == 3;
  Parts parts{workspace};
  float* a = parts.take(kPoints * filter_stride);
  transform_filters_input_gradient(a, weight, g);
  float* dout_last = parts.take(g.n * image_out);
  float* din_last = parts.take(g.n * image_in);
  interleave_images(dout_last, dout, g.n, g.k, g.p * g.q);
  const int threads = chunk_threads(chunks, 4 * kPoints * g.k * g.c * kChunk);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    ChunkBuffers& buf = chunk_buffers(kPoints * padded(g.k * kChunk), kPoints * padded(4 * g.c * kChunk));
    float* data = buf.data.data();
    float* sums = buf.sums.data();
    const int64_t first = chunk * kChunk;
    if (shared) {
      transform_dout_chunk(data, dout_last, g, t, first, {1, 1});
      chunk_products(sums, a, filter_stride, data, 4 * g.c, g.k);
      for (int64_t ph = 0; ph < 4; ++ph) {
        output_chunk_input_gradient(din_last, sums + ph * g.c * kChunk, 4 * g.c, g, t, first, {ph / 2 - 1, ph % 2 - 1});
      }
      continue;
    }
    for (int64_t ph = 0; ph < 4; ++ph) {
      transform_dout_chunk(data, dout_last, g, t, first, {ph / 2, ph % 2});
      chunk_products(sums, a + ph * g.c * g.k, filter_stride, data, g.c, g.k);
      output_chunk_input_gradient(din_last, sums, g.c, g, t, first, {1 - ph / 2, 1 - ph % 2});
    }
  }
  deinterleave_images(din, din_last, g.n, g.c, g.h * g.w, accumulate);
}

void winograd_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                              float* workspace, bool accumulate) {
  ConvGeom group = g;  // images [n0, n0 + group.n)
  group.n = std::min(g.n, kImagesPerSum);
  const Tiles t = output_tiles(group);
  const int64_t image_in = g.c * g.h * g.w, image_out = g.k * g.p * g.q;
  Parts parts{workspace};
  float* du = parts.take(kPoints * padded(g.k * 4 * g.c));
  float* in_channels = parts.take(group.n * image_in);
  float* dout_channels = parts.take(group.n * image_out);
  float* v = parts.take(kPoints * padded(t.slots * 4 * g.c));
  float* e = parts.take(kPoints * padded(g.k * t.slots));
  const int threads = chunk_threads(kPoints * 4 * g.c / gemm_detail::kTileCols, g.k * t.slots * gemm_detail::kTileCols);
  for (int64_t n0 = 0; n0 < g.n; n0 += group.n) {
    group.n = std::min(group.n, g.n - n0);
    const Tiles part = output_tiles(group);
    interleave_channels(in_channels, in + n0 * image_in, group.n, g.c, g.h * g.w);
    interleave_channels(dout_channels, dout + n0 * image_out, group.n, g.k, g.p * g.q);
    transform_input_tiles(v, in_channels, group, part, threads);
    transform_dout_tiles(e, dout_channels, group, part, threads);
    weight_gradient_products(du, e, v, group, part.slots, n0 > 0, threads);
  }
  filter_gradients(dweight, du, g, accumulate, threads);
}

}  // namespace cfgan::cpu
