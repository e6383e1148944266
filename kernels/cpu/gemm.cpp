// GEMM in the GotoBLAS / BLIS style (Goto & van de Geijn, "Anatomy of High-Performance
// Matrix Multiplication", 2008; Van Zee & van de Geijn, "BLIS", 2015): the product is cut
// into cache-sized blocks, each block of op(A) and op(B) is packed into contiguous
// micro-panels (kernels/cpu/gemm_pack.h), and a register-tiled micro-kernel
// (kernels/cpu/gemm_microkernel.h) computes one tile of C at a time.
//
// Loop nest for one thread's rectangle of C:
//   k blocks of kc  ->  A blocks of row panels  ->  B blocks of nc columns
//     ->  row panel (its A micro-panel stays in L1)  ->  column panel (streamed from L2)
// Row panels have balanced heights (with AVX-512's 14-row tile, 64 rows = 5 panels of
// 12 or 13, not 4 x 14 + 8), because a kernel short of rows wastes FMAs while one short
// of kTileRows by one or two loses almost nothing.
#include <omp.h>

#include <algorithm>
#include <span>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/gemm_implicit.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_simd.h"
#include "kernels/cpu/gemm_vector.h"
#include "kernels/cpu/parallel.h"

namespace cfgan::cpu {
namespace {

using namespace gemm_detail;

// Blocking for a Sapphire Rapids core (48 KB L1d, 2 MB L2):
// - kKc steps of k per block: an A micro-panel (14 x 384 floats = 21 KB) stays in L1
//   while the kernel sweeps the B block past it;
// - kBBlockFloats: the packed B block (kc x nc) swept once per row panel, ~1 MB of L2;
// - kABlockFloats: the packed A block, read once per B block, so it only bounds memory.
constexpr int64_t kKc = 384;
constexpr int64_t kBBlockFloats = 256 * 1024;
constexpr int64_t kABlockFloats = 1024 * 1024;

// Up to this many row panels read a B block, the kernel reads whole tiles of a
// non-transposed B where they lie instead of a packed copy: packing would cost a read
// and a write of every element to save at most this many strided reads of it.
constexpr int64_t kMaxRowPanelsForUnpackedB = 2;


int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The start of piece i when `total` is cut into `parts` pieces whose sizes differ by at most 1.
int64_t split_point(int64_t total, int64_t parts, int64_t i) { return total * i / parts; }

struct Range {
  int64_t begin, size;
};

// One matrix of the batch; a or b is null where a packer supplies that operand.
struct Operands {
  const float* a;
  const float* b;
  float* c;
  int64_t product;
  const PanelPacker* implicit_a;
  const PanelPacker* implicit_b;
};

// Rows [r, r + width) of op(A) over k in [p, p + kc).
PanelSource a_panel(const GemmArgs& g, const float* a, int64_t r, int64_t p) {
  return g.trans_a ? PanelSource{a + p * g.lda + r, g.lda, false} : PanelSource{a + r * g.lda + p, g.lda, true};
}

// Columns [j, j + width) of op(B) over k in [p, p + kc).
PanelSource b_panel(const GemmArgs& g, const float* b, int64_t p, int64_t j) {
  return g.trans_b ? PanelSource{b + j * g.ldb + p, g.ldb, true} : PanelSource{b + p * g.ldb + j, g.ldb, false};
}

// BF16 products run on the pair micro-kernels where the CPU has them (gemm_simd.h).
bool bf16_pairs(MatmulPrecision precision) { return kBf16Pairs && precision == MatmulPrecision::bf16; }

// Rounds a packed panel of kc steps x `width` lines to a tensor-core precision
// (kernels/precision.h), folding BF16 into pairs of steps for the pair micro-kernels:
// rounding at packing time is what lets the FP32 micro-kernels serve TF32 too.
void round_panel(float* panel, int64_t kc, int64_t width, MatmulPrecision precision) {
  if (precision == MatmulPrecision::fp32) return;
#if defined(__AVX512BF16__)
  if (bf16_pairs(precision)) {
    pack_bf16_pairs(panel, kc, width);
    return;
  }
#endif
  for (int64_t i = 0; i < kc * width; ++i) panel[i] = round_operand(panel[i], precision);
}

// The micro-kernels for a precision, and the steps they take over kc steps of k.
const decltype(kMicroKernels)& micro_kernels(MatmulPrecision precision) {
#if defined(__AVX512BF16__)
  if (bf16_pairs(precision)) return kBf16PairMicroKernels;
#endif
  return kMicroKernels;
}
int64_t kernel_steps(int64_t kc, MatmulPrecision precision) { return bf16_pairs(precision) ? (kc + 1) / 2 : kc; }

// Where a rectangle's result goes: c is its first element, beta scales what is there.
struct Output {
  float* c;
  int64_t ldc;
  float beta;
};

// The rectangle's own elements of C, with C's beta.
Output output_in_c(const GemmArgs& g, const Operands& x, Range rows, Range cols) {
  return {x.c + rows.begin * g.ldc + cols.begin, g.ldc, g.beta};
}

// out = alpha * op(A)[rows, ks] op(B)[ks, cols] + out.beta * out, one thread.
// Each panel is packed just before the first kernel that reads it (A panels during the
// first B block, B panels during the first row panel's sweep), so that its first use
// finds it in L1 instead of writing whole blocks out and reading them back.
void gemm_rectangle(const GemmArgs& g, const Operands& x, Range rows, Range cols, Range ks, Output out) {
  constexpr int W = Simd::width;
  PackBuffers& buf = thread_pack_buffers();
  const int64_t panels = ceil_div(rows.size, kTileRows);
  const auto panel_start = [&](int64_t p) { return split_point(rows.size, panels, p); };
  const int64_t k_blocks = ceil_div(ks.size, kKc);
  const auto& kernels = micro_kernels(g.precision);
  for (int64_t kb = 0; kb < k_blocks; ++kb) {
    const int64_t p0 = ks.begin + split_point(ks.size, k_blocks, kb);
    const int64_t kc = ks.begin + split_point(ks.size, k_blocks, kb + 1) - p0;
    // Later k blocks add to what the first one wrote.
    const float beta = kb == 0 ? out.beta : 1.0f;
    const int64_t steps = kernel_steps(kc, g.precision);
    const int64_t panels_per_a_block = std::max<int64_t>(1, kABlockFloats / (kc * kTileRows));
    const int64_t nc_max = std::max<int64_t>(1, kBBlockFloats / (kc * kTileCols)) * kTileCols;
    for (int64_t pa = 0; pa < panels; pa += panels_per_a_block) {
      const int64_t pa_end = std::min(panels, pa + panels_per_a_block);
      const int64_t r0 = panel_start(pa);
      float* a_packed = buf.a.get((panel_start(pa_end) - r0) * kc);
      for (int64_t jc = 0; jc < cols.size; jc += nc_max) {
        const int64_t nc = std::min(nc_max, cols.size - jc);
        const int64_t col_panels = ceil_div(nc, kTileCols);
        float* b_packed = buf.b.get(col_panels * kc * kTileCols);
        const bool unpacked_b = !x.implicit_b && !g.trans_b && pa_end - pa <= kMaxRowPanelsForUnpackedB &&
                                g.precision == MatmulPrecision::fp32;
        for (int64_t p = pa; p < pa_end; ++p) {
          const int64_t height = panel_start(p + 1) - panel_start(p);
          float* a_micro = a_packed + (panel_start(p) - r0) * kc;
          if (jc == 0) {
            const int64_t row = rows.begin + panel_start(p);
            if (x.implicit_a) {
              x.implicit_a->pack(x.implicit_a->context, x.product, p0, kc, row, height, height, a_micro);
            } else {
              pack_panel(a_panel(g, x.a, row, p0), kc, height, height, a_micro);
            }
            round_panel(a_micro, kc, height, g.precision);
          }
          float* c_row = out.c + panel_start(p) * out.ldc + jc;
          for (int64_t q = 0; q < col_panels; ++q) {
            const int width = static_cast<int>(std::min<int64_t>(kTileCols, nc - q * kTileCols));
            const int vectors = static_cast<int>(ceil_div(width, W));
            const int64_t col = cols.begin + jc + q * kTileCols;
            float* b_micro = b_packed + q * kc * kTileCols;
            const float* b_tile = b_micro;
            int64_t b_step = vectors * W;
            if (unpacked_b && width == kTileCols) {  // a ragged panel is packed: the kernel reads whole vectors
              b_tile = b_panel(g, x.b, p0, col).src, b_step = g.ldb;
            } else if (p == pa) {
              if (x.implicit_b) {
                x.implicit_b->pack(x.implicit_b->context, x.product, p0, kc, col, width, vectors * W, b_micro);
              } else {
                pack_panel(b_panel(g, x.b, p0, col), kc, width, vectors * W, b_micro);
              }
              round_panel(b_micro, kc, vectors * W, g.precision);
            }
            kernels[height - 1][vectors - 1][width % W != 0](steps, a_micro, b_tile, b_step, c_row + q * kTileCols,
                                                             out.ldc, width, g.alpha, beta);
          }
        }
      }
    }
  }
}

// How one matrix is shared out: a grid of row_parts x col_parts rectangles, one per thread,
// or (k_split) all of C for every thread over its own slice of k, summed into private
// buffers and added up afterwards. The k split is for products whose C is small and whose
// k is long (weight gradients), where cutting C makes every thread pack the same long panels.
struct Split {
  int row_parts, col_parts;
  bool k_split;
};

// Picks the split with the cheapest per-thread share, counting FMAs (two vector FMAs per
// cycle), packing (about four floats per cycle) and the k slices' sum. Each thread packs
// the A rows and B columns of its own rectangle and slice, so splitting one dimension
// repacks the other.
Split choose_split(const GemmArgs& g, int threads) {
  constexpr int W = Simd::width;
  const int64_t vectors = ceil_div(g.n, W);
  const auto cost = [&](double rows, double cols, double k, double sum) {
    return rows * cols * k / (2 * W) + (rows + cols) * k / 4 + sum;
  };
  Split best{1, threads, false};
  double best_cost = -1.0;
  for (int rp = 1; rp <= threads; ++rp) {
    if (threads % rp != 0) continue;
    const int cp = threads / rp;
    if (rp > g.m || cp > vectors) continue;
    const double c = cost(static_cast<double>(ceil_div(g.m, rp)), static_cast<double>(ceil_div(vectors, cp) * W),
                          static_cast<double>(g.k), 0.0);
    if (best_cost < 0 || c < best_cost) best = {rp, cp, false}, best_cost = c;
  }
  // Each thread sums 1/threads of C's elements over all slices and C itself.
  const double m = static_cast<double>(g.m), n = static_cast<double>(vectors * W);
  const double k_split = cost(m, n, static_cast<double>(ceil_div(g.k, threads)), m * n * (threads + 1) / (threads * W));
  if (g.k >= threads && (best_cost < 0 || k_split < best_cost)) best = {1, 1, true};
  return best;
}

// The packers of one GEMM call, null for an operand read from g.
struct Packers {
  const PanelPacker* a;
  const PanelPacker* b;
};

Operands batch_operands(const GemmArgs& g, Packers packers, int64_t i) {
  return {packers.a ? nullptr : g.a + i * g.stride_a,
          packers.b ? nullptr : g.b + i * g.stride_b,
          g.c + i * g.stride_c,
          i,
          packers.a,
          packers.b};
}

// C = beta * C: what is left of the product when k == 0 or alpha == 0.
void scale_c(const GemmArgs& g) {
  for (int64_t i = 0; i < g.batch; ++i) {
    float* c = g.c + i * g.stride_c;
    for (int64_t r = 0; r < g.m; ++r) {
      float* row = c + r * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) row[j] = g.beta == 0.0f ? 0.0f : g.beta * row[j];
    }
  }
}

// One matrix of the batch by one thread.
void whole_product(const GemmArgs& g, const Operands& x) {
  const Range rows{0, g.m}, cols{0, g.n};
  gemm_rectangle(g, x, rows, cols, {0, g.k}, output_in_c(g, x, rows, cols));
}

// C[r0:r1, :] = beta C[r0:r1, :] + the sum of the k slices' (alpha-scaled) products.
void sum_k_slices(const GemmArgs& g, float* c, std::span<float* const> slices, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    float* row = c + r * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) row[j] = g.beta == 0.0f ? 0.0f : g.beta * row[j];
    for (const float* slice : slices) {
      for (int64_t j = 0; j < g.n; ++j) row[j] += slice[r * g.n + j];
    }
  }
}

// gemm() and gemm_implicit(): an operand from g where its packer is null.
void gemm_blocked(const GemmArgs& g, Packers packers) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.k <= 0 || g.alpha == 0.0f) {
    scale_c(g);
    return;
  }
  const int64_t fmas = g.m * g.n * g.k;
  const int threads =
      static_cast<int>(std::clamp<int64_t>(fmas * g.batch / kMinFmasPerThread, 1, omp_get_max_threads()));
  // The vector kernel reads the operands where they lie: it has no packing step to round in.
  if (!packers.a && !packers.b && (g.m == 1 || g.n == 1) && g.precision == MatmulPrecision::fp32) {
    gemm_vector(g, threads);
    return;
  }
  if (threads == 1) {
    for (int64_t i = 0; i < g.batch; ++i) whole_product(g, batch_operands(g, packers, i));
    return;
  }
  // Whole matrices per thread when the batch divides evenly or is long enough that the
  // remainder hardly matters; otherwise every matrix is shared by all threads. A batch
  // that sums into one C (stride_c == 0) is always shared, so that no two threads
  // update the same element.
  if (g.stride_c != 0 && (g.batch % threads == 0 || g.batch >= 4 * threads)) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < g.batch; ++i) whole_product(g, batch_operands(g, packers, i));
    return;
  }
  const int64_t vectors = ceil_div(g.n, Simd::width);
  // Each thread's k-slice buffer, where the others can sum it (grows once, then reused).
  thread_local std::vector<float*> partials;
  partials.resize(std::max<size_t>(partials.size(), threads));
  float** const slots = partials.data();  // inside the team, `partials` would name each thread's own
#pragma omp parallel num_threads(threads)
  {
    // The team may be smaller than asked for (nested regions, OMP_DYNAMIC).
    const int team = omp_get_num_threads(), t = omp_get_thread_num();
    const Split split = choose_split(g, team);
    if (split.k_split) {
      const int64_t k0 = split_point(g.k, team, t);
      float* mine = slots[t] = thread_pack_buffers().c.get(g.m * g.n);
      for (int64_t i = 0; i < g.batch; ++i) {
        const Operands x = batch_operands(g, packers, i);
        gemm_rectangle(g, x, {0, g.m}, {0, g.n}, {k0, split_point(g.k, team, t + 1) - k0}, {mine, g.n, 0.0f});
#pragma omp barrier
        const std::span<float* const> slices{slots, static_cast<size_t>(team)};
        sum_k_slices(g, x.c, slices, split_point(g.m, team, t), split_point(g.m, team, t + 1));
#pragma omp barrier
      }
    } else {
      const int rp = t / split.col_parts, cp = t % split.col_parts;
      const int64_t r0 = split_point(g.m, split.row_parts, rp);
      const Range rows{r0, split_point(g.m, split.row_parts, rp + 1) - r0};
      const int64_t c0 = split_point(vectors, split.col_parts, cp) * Simd::width;
      const Range cols{c0, std::min(g.n, split_point(vectors, split.col_parts, cp + 1) * Simd::width) - c0};
      if (rows.size > 0 && cols.size > 0) {
        for (int64_t i = 0; i < g.batch; ++i) {
          const Operands x = batch_operands(g, packers, i);
          gemm_rectangle(g, x, rows, cols, {0, g.k}, output_in_c(g, x, rows, cols));
        }
      }
    }
  }
}

}  // namespace

void gemm(const GemmArgs& g) { gemm_blocked(g, {nullptr, nullptr}); }

void gemm_implicit(const GemmArgs& g, const PanelPacker* a, const PanelPacker* b) { gemm_blocked(g, {a, b}); }

}  // namespace cfgan::cpu
