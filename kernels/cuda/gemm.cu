// FP32 GEMM for the whole GemmArgs contract (kernels/kernels.h): row-major, either
// operand transposed, any M, N, K (1 and non-multiples of the tile included), any
// leading dimensions, alpha / beta (beta == 0 never reads C), batches.
//
// Three kernels, one per section below; plan_gemm picks one per call from the shape:
// 1. tiled_gemm_kernel: the SGEMM_CUDA ladder's blocked kernel (shared-memory tiles,
//    register blocking, double-buffered loads, float4 where aligned) in a large tile
//    for big products and a small one when the large tiles would not fill the GPU;
// 2. dot_gemm_kernel: GEMV-like products (M or N of at most 4, long K), one warp per
//    element of C, where a tile would sit mostly idle;
// 3. split_k_reduce_kernel: when the caller lends scratch (gemm_with_workspace) and
//    even the small tiles are too few, the tiled kernel computes K-slices into partial
//    products and this kernel sums them in slice order;
// 4. mma_gemm_kernel: TF32 or BF16 operands on the tensor cores (mma.sync), FP32
//    accumulators, for args.precision other than fp32 (the GEMV-like products round
//    their operands in the dot kernel instead).
// Each element of C is summed in a fixed order that depends on the shape only, never on
// the GPU, so a product repeats bit for bit.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/mma.cuh"

namespace cfgan::CFGAN_CUDA_NS {
namespace {

// What every GEMM kernel here reads. blockIdx.z (tiled kernel) numbers product *
// splits + slice; C advances by stride_c per z (per product when K is not split, per
// partial product in the scratch buffer when it is).
struct GemmParams {
  const float* a;
  int64_t lda, stride_a;
  const float* b;
  int64_t ldb, stride_b;
  float* c;
  int64_t ldc, stride_c;
  int64_t m, n, k, batch;
  int64_t k_split;  // depth of one K-slice: k when K is not split
  int64_t splits;   // K-slices per product
  float alpha, beta;
  bool c_aligned;  // c, ldc and stride_c allow float4 access
  MatmulPrecision precision;
};

// c[0 .. min(4, cols)) = v + beta * c, reading c only when beta != 0.
__device__ __forceinline__ void store_run(float* c, const float* v, int cols, float beta, bool aligned) {
  if (aligned && cols >= 4) {
    float4 out = make_float4(v[0], v[1], v[2], v[3]);
    if (beta != 0.0f) {
      const float4 old = *reinterpret_cast<const float4*>(c);
      out.x += beta * old.x, out.y += beta * old.y, out.z += beta * old.z, out.w += beta * old.w;
    }
    *reinterpret_cast<float4*>(c) = out;
    return;
  }
  for (int j = 0; j < 4 && j < cols; ++j) c[j] = beta == 0.0f ? v[j] : v[j] + beta * c[j];
}

// ---- 1. Tiled kernel -------------------------------------------------------------
//
// A block computes a BM x BN tile of C with (BM/TM) x (BN/TN) threads, each a TM x TN
// register tile made of (TM/4) x (TN/4) 4x4 blocks spaced BM/(TM/4) rows and
// BN/(TN/4) columns apart, so that a warp's float4 reads of one shared-memory row are
// consecutive (no bank conflicts). K is walked BK at a time through two shared-memory
// buffers: while the block multiplies one tile, each thread holds the next tile's
// loads in registers and stores them into the other buffer afterwards, so one barrier
// per step suffices and global latency hides behind the arithmetic. Edge tiles load
// zeros outside the matrix and store only inside it.

template <int BM, int BN, int BK, int TM, int TN>
struct TileShape {
  static constexpr int kBM = BM, kBN = BN, kBK = BK, kTM = TM, kTN = TN;
  static constexpr int kThreads = (BM / TM) * (BN / TN);
  static constexpr bool kTensorCores = false;
  static_assert(TM % 4 == 0 && TN % 4 == 0 && BK % 4 == 0);
};

// 128x128x8, 8x8 per thread, 256 threads: 64 FMAs per four float4 shared-memory reads.
using LargeTile = TileShape<128, 128, 8, 8, 8>;
// 64x64x16, 4x4 per thread, 256 threads: four times as many blocks, for products with
// too few large tiles to fill the GPU or with M or N of at most 64. BK = 16 keeps one
// float4 per operand per thread per step.
using SmallTile = TileShape<64, 64, 16, 4, 4>;

// Shared rows are padded so that the column stores of operands stored along k (below)
// spread over more banks; 4 floats keep every row 16-byte aligned for float4 reads.
constexpr int kSharedPad = 4;

// Moves one operand's BK x BMN tiles from global to shared memory, where each is kept
// as s[k][mn] (op(A) as (K, M), op(B) as (K, N)) so that the multiply reads runs of the
// M (N) index. The operand X is stored either "along k", element (k, mn) at x[mn*ld + k]
// (A unless trans_a, B when trans_b), or "along mn", at x[k*ld + mn]. Each thread moves
// kFragments runs of 4 elements along X's contiguous dimension per tile: a run along mn
// goes to shared memory as one float4, a run along k as 4 floats down a column.
// kVec: x and ld allow float4 loads (runs start at multiples of 4). The thread keeps a
// pointer per run and advances it a tile at a time; bounds are 32-bit counts of what
// is left of the matrix from the tile's corner.
template <int BK, int BMN, int kThreads, bool kAlongK, bool kVec, int kPad = kSharedPad>
class TileLoad {
 public:
  static constexpr int kFragments = BK * BMN / (4 * kThreads);
  static_assert(BK * BMN % (4 * kThreads) == 0, "the threads must split the tile into whole runs");

  // The tiles of x from its element (k_begin, mn0) on; mn_end: x's extent along mn.
  __device__ __forceinline__ TileLoad(const float* x, int64_t ld, int64_t k_begin, int64_t mn0, int64_t mn_end)
      : mn_left_(static_cast<int>(min(mn_end - mn0, int64_t{BMN}))), advance_(kAlongK ? BK : BK * ld) {
#pragma unroll
    for (int v = 0; v < kFragments; ++v) {
      int kk, mm;
      position(v, kk, mm);
      run_[v] = x + (kAlongK ? (mn0 + mm) * ld + k_begin + kk : (k_begin + kk) * ld + mn0 + mm);
    }
  }

  // Reads the next tile; k_left = min(BK, what is left of K from its first k).
  // Elements outside the matrix read as 0.
  __device__ __forceinline__ void load(float4 (&r)[kFragments], int k_left) {
#pragma unroll
    for (int v = 0; v < kFragments; ++v) {
      int kk, mm;
      position(v, kk, mm);
      const int run = kAlongK ? kk : mm, run_left = kAlongK ? k_left : mn_left_;
      const float* p = run_[v];
      float4 f = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (kAlongK ? mm < mn_left_ : kk < k_left) {
        if (kVec && run + 4 <= run_left) {
          f = __ldg(reinterpret_cast<const float4*>(p));
        } else {
          if (run < run_left) f.x = __ldg(p);
          if (run + 1 < run_left) f.y = __ldg(p + 1);
          if (run + 2 < run_left) f.z = __ldg(p + 2);
          if (run + 3 < run_left) f.w = __ldg(p + 3);
        }
      }
      r[v] = f;
      run_[v] = p + advance_;
    }
  }

  __device__ __forceinline__ static void store(const float4 (&r)[kFragments], float (*s)[BMN + kPad]) {
#pragma unroll
    for (int v = 0; v < kFragments; ++v) {
      int kk, mm;
      position(v, kk, mm);
      if (kAlongK) {
        s[kk][mm] = r[v].x, s[kk + 1][mm] = r[v].y, s[kk + 2][mm] = r[v].z, s[kk + 3][mm] = r[v].w;
      } else {
        *reinterpret_cast<float4*>(&s[kk][mm]) = r[v];
      }
    }
  }

 private:
  // Where the thread's run v starts in the tile. Consecutive threads take consecutive
  // runs of one row of X, so a warp reads whole 32-byte sectors.
  __device__ __forceinline__ static void position(int v, int& kk, int& mm) {
    const int f = static_cast<int>(threadIdx.x) + v * kThreads;
    if (kAlongK) {
      mm = f / (BK / 4), kk = f % (BK / 4) * 4;
    } else {
      kk = f / (BMN / 4), mm = f % (BMN / 4) * 4;
    }
  }

  const float* run_[kFragments];
  int mn_left_;
  int64_t advance_;
};

// The walk along K described above, for the block's K-slice of product blockIdx.z /
// splits, shared by the FP32 and the tensor-core kernels: op(A)'s tiles from row m0 and
// op(B)'s from column n0 pass through the two buffers of as and bs, and multiply(as[i],
// bs[i]) consumes each.
template <int BK, int BM, int BN, int kThreads, bool kTransA, bool kTransB, bool kVec, int kPad, class Multiply>
__device__ __forceinline__ void sweep_k(const GemmParams& p, int64_t m0, int64_t n0, float (*as)[BK][BM + kPad],
                                        float (*bs)[BK][BN + kPad], Multiply&& multiply) {
  using LoadA = TileLoad<BK, BM, kThreads, !kTransA, kVec, kPad>;
  using LoadB = TileLoad<BK, BN, kThreads, kTransB, kVec, kPad>;
  const int64_t product = blockIdx.z / p.splits, slice = blockIdx.z % p.splits;
  const int64_t k_begin = slice * p.k_split, k_end = min(p.k, k_begin + p.k_split);
  const int64_t steps = (k_end - k_begin + BK - 1) / BK;
  LoadA load_a(p.a + product * p.stride_a, p.lda, k_begin, m0, p.m);
  LoadB load_b(p.b + product * p.stride_b, p.ldb, k_begin, n0, p.n);
  float4 next_a[LoadA::kFragments], next_b[LoadB::kFragments];
  if (steps > 0) {
    const int k_left = static_cast<int>(min(k_end - k_begin, int64_t{BK}));
    load_a.load(next_a, k_left);
    load_b.load(next_b, k_left);
    LoadA::store(next_a, as[0]);
    LoadB::store(next_b, bs[0]);
  }
  __syncthreads();
  for (int64_t step = 0; step < steps; ++step) {
    const int current = static_cast<int>(step % 2);
    const bool more = step + 1 < steps;
    if (more) {
      const int k_left = static_cast<int>(min(k_end - k_begin - (step + 1) * BK, int64_t{BK}));
      load_a.load(next_a, k_left);
      load_b.load(next_b, k_left);
    }
    multiply(as[current], bs[current]);
    if (more) {
      LoadA::store(next_a, as[1 - current]);
      LoadB::store(next_b, bs[1 - current]);
    }
    __syncthreads();  // the other buffer is full, and nobody reads this one any more
  }
}

// acc += (the thread's rows of as) x (its columns of bs), over the BK rows of the tiles.
template <class T>
__device__ __forceinline__ void multiply_tile(const float (*as)[T::kBM + kSharedPad],
                                              const float (*bs)[T::kBN + kSharedPad], float (&acc)[T::kTM][T::kTN],
                                              int row, int col) {
  constexpr int kRowBlocks = T::kTM / 4, kColBlocks = T::kTN / 4;
#pragma unroll
  for (int kk = 0; kk < T::kBK; ++kk) {
    float a[T::kTM], b[T::kTN];
#pragma unroll
    for (int i = 0; i < kRowBlocks; ++i) {
      const float4 v = *reinterpret_cast<const float4*>(&as[kk][i * (T::kBM / kRowBlocks) + row]);
      a[4 * i] = v.x, a[4 * i + 1] = v.y, a[4 * i + 2] = v.z, a[4 * i + 3] = v.w;
    }
#pragma unroll
    for (int j = 0; j < kColBlocks; ++j) {
      const float4 v = *reinterpret_cast<const float4*>(&bs[kk][j * (T::kBN / kColBlocks) + col]);
      b[4 * j] = v.x, b[4 * j + 1] = v.y, b[4 * j + 2] = v.z, b[4 * j + 3] = v.w;
    }
#pragma unroll
    for (int i = 0; i < T::kTM; ++i) {
#pragma unroll
      for (int j = 0; j < T::kTN; ++j) acc[i][j] += a[i] * b[j];
    }
  }
}

// grid (N tiles, M tiles, products * splits), T::kThreads threads. The launch bounds
// cap registers at 128 so that two blocks share an SM (latency hiding needs the warps).
template <class T, bool kTransA, bool kTransB, bool kVec>
__global__ void __launch_bounds__(T::kThreads, 2) tiled_gemm_kernel(GemmParams p) {
  constexpr int BM = T::kBM, BN = T::kBN, BK = T::kBK;
  __shared__ __align__(16) float as[2][BK][BM + kSharedPad];
  __shared__ __align__(16) float bs[2][BK][BN + kSharedPad];

  float* c = p.c + int64_t{blockIdx.z} * p.stride_c;
  const int64_t m0 = int64_t{blockIdx.y} * BM, n0 = int64_t{blockIdx.x} * BN;
  // First row / column of the thread's 4x4 blocks.
  const int row = static_cast<int>(threadIdx.x) / (BN / T::kTN) * 4;
  const int col = static_cast<int>(threadIdx.x) % (BN / T::kTN) * 4;

  float acc[T::kTM][T::kTN] = {};
  sweep_k<BK, BM, BN, T::kThreads, kTransA, kTransB, kVec, kSharedPad>(
      p, m0, n0, as, bs, [&](const auto* at, const auto* bt) { multiply_tile<T>(at, bt, acc, row, col); });

  // What is left of C from the block's corner, clipped to the tile.
  const int m_left = static_cast<int>(min(p.m - m0, int64_t{BM})), n_left = static_cast<int>(min(p.n - n0, int64_t{BN}));
  float* c_tile = c + m0 * p.ldc + n0;
#pragma unroll
  for (int i = 0; i < T::kTM; ++i) {
#pragma unroll
    for (int j = 0; j < T::kTN; ++j) acc[i][j] *= p.alpha;
  }
  constexpr int kRowBlocks = T::kTM / 4, kColBlocks = T::kTN / 4;
#pragma unroll
  for (int i = 0; i < T::kTM; ++i) {
    const int r = i / 4 * (BM / kRowBlocks) + row + i % 4;
    if (r >= m_left) continue;
    float* c_row = c_tile + r * p.ldc;
#pragma unroll
    for (int j = 0; j < kColBlocks; ++j) {
      const int cc = j * (BN / kColBlocks) + col;
      if (cc < n_left) store_run(c_row + cc, &acc[i][4 * j], n_left - cc, p.beta, p.c_aligned);
    }
  }
}

// ---- 2. GEMV-like products: one warp per element of C ----------------------------
//
// Lanes stride through K (coalesced when the operand is stored along k) and meet in a
// butterfly sum. 256 threads = 8 elements per block.

constexpr int kDotThreads = 256;

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kDotThreads) dot_gemm_kernel(GemmParams p) {
  const int64_t element = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (element >= p.batch * p.m * p.n) return;  // whole warps leave together
  const int64_t j = element % p.n, i = element / p.n % p.m, product = element / (p.m * p.n);
  const float* a = p.a + product * p.stride_a;
  const float* b = p.b + product * p.stride_b;
  float sum = 0.0f;
  for (int64_t k = lane; k < p.k; k += 32) {
    const float av = round_operand_on_device(__ldg(kTransA ? a + k * p.lda + i : a + i * p.lda + k), p.precision);
    const float bv = round_operand_on_device(__ldg(kTransB ? b + j * p.ldb + k : b + k * p.ldb + j), p.precision);
    sum += av * bv;
  }
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  if (lane == 0) {
    float* c = p.c + product * p.stride_c + i * p.ldc + j;
    *c = p.beta == 0.0f ? p.alpha * sum : p.alpha * sum + p.beta * *c;
  }
}

// ---- 3. Split-K: sum the partial products --------------------------------------
//
// partial is (batch, splits, M, N); C = alpha * (slice 0 + slice 1 + ...) + beta * C.
// One thread per element of C, grid-stride.

constexpr int kReduceThreads = 256;

__global__ void __launch_bounds__(kReduceThreads) split_k_reduce_kernel(GemmParams p, const float* __restrict__ partial) {
  const int64_t mn = p.m * p.n, total = p.batch * mn;
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t e = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; e < total; e += stride) {
    const int64_t product = e / mn, ij = e % mn;
    const float* slices = partial + product * p.splits * mn + ij;
    float sum = 0.0f;
    for (int64_t s = 0; s < p.splits; ++s) sum += slices[s * mn];
    float* c = p.c + product * p.stride_c + ij / p.n * p.ldc + ij % p.n;
    *c = p.beta == 0.0f ? p.alpha * sum : p.alpha * sum + p.beta * *c;
  }
}

// ---- 4. Tensor-core kernel ------------------------------------------------------
//
// The tiled kernel's loads and double buffering, with the multiply on mma.sync: a
// 128 x 128 block tile, BK = 16, eight warps in 2 (M) x 4 (N), each warp 64 x 32 of C as
// 4 x 4 instructions of 16 x 8. Operands are rounded to the precision as they move from
// shared memory into fragments (kernels/cuda/mma.cuh has the layouts). Lane (g, t) of a
// warp reads s[k][mn0 + g] with k = t (TF32) or k = 2t, 2t + 1 (BF16); rows padded to
// 136 (TF32) or 132 floats (BF16) put those reads at bank 8t + g (+ 4), so the 32 lanes
// hit 32 different banks.

struct MmaTile {
  static constexpr int kBM = 128, kBN = 128, kBK = 16, kThreads = 256;
  static constexpr int kWarpM = 64, kWarpN = 32;  // 2 x 4 warps
  static constexpr int kFragsM = kWarpM / 16, kFragsN = kWarpN / 8;
};

template <MatmulPrecision P>
struct TensorCoreTile : MmaTile {
  static constexpr bool kTensorCores = true;
  static constexpr MatmulPrecision kPrecision = P;
};

template <MatmulPrecision P>
constexpr int kMmaPad = P == MatmulPrecision::bf16 ? 4 : 8;

// acc += (the warp's rows of as) x (its columns of bs) over the BK rows of the tiles.
template <MatmulPrecision P>
__device__ __forceinline__ void mma_tile(const float (*as)[MmaTile::kBM + kMmaPad<P>],
                                         const float (*bs)[MmaTile::kBN + kMmaPad<P>],
                                         float (&acc)[MmaTile::kFragsM][MmaTile::kFragsN][4], int wm, int wn, int g,
                                         int t) {
  constexpr int kDepth = P == MatmulPrecision::bf16 ? 16 : 8;
#pragma unroll
  for (int k0 = 0; k0 < MmaTile::kBK; k0 += kDepth) {
    uint32_t b[MmaTile::kFragsN][2];
#pragma unroll
    for (int j = 0; j < MmaTile::kFragsN; ++j) {
      const int col = wn + 8 * j + g;
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        if constexpr (P == MatmulPrecision::bf16) {
          const int k = k0 + 2 * t + 8 * r;
          b[j][r] = to_bf16x2(bs[k][col], bs[k + 1][col]);
        } else {
          b[j][r] = to_tf32(bs[k0 + t + 4 * r][col]);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < MmaTile::kFragsM; ++i) {
      uint32_t a[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int row = wm + 16 * i + g + 8 * (r % 2);
        if constexpr (P == MatmulPrecision::bf16) {
          const int k = k0 + 2 * t + 8 * (r / 2);
          a[r] = to_bf16x2(as[k][row], as[k + 1][row]);
        } else {
          a[r] = to_tf32(as[k0 + t + 4 * (r / 2)][row]);
        }
      }
#pragma unroll
      for (int j = 0; j < MmaTile::kFragsN; ++j) {
        if constexpr (P == MatmulPrecision::bf16) {
          mma_m16n8k16_bf16(acc[i][j], a, b[j], acc[i][j]);
        } else {
          mma_m16n8k8_tf32(acc[i][j], a, b[j], acc[i][j]);
        }
      }
    }
  }
}

// grid (N tiles, M tiles, products * splits), 256 threads; z as in tiled_gemm_kernel.
// One block per SM is what the launch bounds promise: the 64 accumulators, fragments and
// the next tile's loads take 146-163 registers (ptxas, sm_90); capped at 128 for two
// blocks, two of the sixteen variants spilled.
template <MatmulPrecision P, bool kTransA, bool kTransB, bool kVec>
__global__ void __launch_bounds__(MmaTile::kThreads, 1) mma_gemm_kernel(GemmParams p) {
  constexpr int BM = MmaTile::kBM, BN = MmaTile::kBN, BK = MmaTile::kBK, kPad = kMmaPad<P>;
  __shared__ __align__(16) float as[2][BK][BM + kPad];
  __shared__ __align__(16) float bs[2][BK][BN + kPad];

  float* c = p.c + int64_t{blockIdx.z} * p.stride_c;
  const int64_t m0 = int64_t{blockIdx.y} * BM, n0 = int64_t{blockIdx.x} * BN;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  const int wm = warp / (BN / MmaTile::kWarpN) * MmaTile::kWarpM, wn = warp % (BN / MmaTile::kWarpN) * MmaTile::kWarpN;

  float acc[MmaTile::kFragsM][MmaTile::kFragsN][4] = {};
  sweep_k<BK, BM, BN, MmaTile::kThreads, kTransA, kTransB, kVec, kPad>(
      p, m0, n0, as, bs, [&](const auto* at, const auto* bt) { mma_tile<P>(at, bt, acc, wm, wn, g, t); });

  // Register r of fragment (i, j) is C's element (wm + 16i + g + 8 (r / 2), wn + 8j + 2t + r % 2).
  const int m_left = static_cast<int>(min(p.m - m0, int64_t{BM})), n_left = static_cast<int>(min(p.n - n0, int64_t{BN}));
  float* c_tile = c + m0 * p.ldc + n0;
#pragma unroll
  for (int i = 0; i < MmaTile::kFragsM; ++i) {
#pragma unroll
    for (int j = 0; j < MmaTile::kFragsN; ++j) {
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int row = wm + 16 * i + g + 8 * (r / 2), col = wn + 8 * j + 2 * t + r % 2;
        if (row < m_left && col < n_left) {
          float* out = c_tile + row * p.ldc + col;
          const float v = p.alpha * acc[i][j][r];
          *out = p.beta == 0.0f ? v : v + p.beta * *out;
        }
      }
    }
  }
}

// ---- Host side -------------------------------------------------------------------

// The plan depends on the sizes only: results never depend on the GPU. The constants
// are an H200's (132 SMs); on another GPU the plan is merely less well fitted.
constexpr int64_t kSmCount = 132;
constexpr int64_t kTargetBlocks = 2 * kSmCount;  // two resident 256-thread blocks per SM
// Shallower K-slices cost more in partial-product traffic than they win in parallelism.
constexpr int64_t kMinSliceDepth = 128;
// A K-slice's depth is a multiple of every tile's BK, so slices start float4-aligned.
constexpr int64_t kSliceAlign = 16;
constexpr int64_t kDotMaxSide = 4;
constexpr int64_t kDotMinDepth = 128;
constexpr int64_t kMaxGridYZ = 65535;

enum class Kernel { dot, small_tile, large_tile, mma };

struct GemmPlan {
  Kernel kernel;
  int64_t splits;
  int64_t k_split;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <class T>
int64_t tile_count(const GemmArgs& g) {
  return g.batch * ceil_div(g.m, T::kBM) * ceil_div(g.n, T::kBN);
}

GemmPlan plan_gemm(const GemmArgs& g, bool may_split) {
  if (std::min(g.m, g.n) <= kDotMaxSide && g.k >= kDotMinDepth) return {Kernel::dot, 1, g.k};
  GemmPlan plan{Kernel::large_tile, 1, g.k};
  int64_t tiles = tile_count<LargeTile>(g);
  if (g.precision != MatmulPrecision::fp32) {
    plan.kernel = Kernel::mma;
    tiles = tile_count<MmaTile>(g);
  } else if (g.m <= SmallTile::kBM || g.n <= SmallTile::kBN || tiles < kSmCount) {
    plan.kernel = Kernel::small_tile;
    tiles = tile_count<SmallTile>(g);
  }
  if (may_split && tiles < kTargetBlocks) {
    const int64_t splits = std::min(ceil_div(kTargetBlocks, tiles), g.k / kMinSliceDepth);
    if (splits > 1) {
      plan.k_split = ceil_div(ceil_div(g.k, splits), kSliceAlign) * kSliceAlign;
      plan.splits = ceil_div(g.k, plan.k_split);
      if (plan.splits == 1) plan.k_split = g.k;
    }
  }
  return plan;
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// The FP32 tiled kernel of tile T, or the tensor-core kernel for TensorCoreTile<P>.
template <class T, bool kTransA, bool kTransB, bool kVec>
constexpr auto tile_kernel() {
  if constexpr (T::kTensorCores) {
    return mma_gemm_kernel<T::kPrecision, kTransA, kTransB, kVec>;
  } else {
    return tiled_gemm_kernel<T, kTransA, kTransB, kVec>;
  }
}

template <class T, bool kTransA, bool kTransB>
void launch_tiled(const GemmParams& p, bool vec) {
  const dim3 grid(static_cast<unsigned>(ceil_div(p.n, T::kBN)), static_cast<unsigned>(ceil_div(p.m, T::kBM)),
                  static_cast<unsigned>(p.batch * p.splits));
  if (vec) {
    CFGAN_LAUNCH((tile_kernel<T, kTransA, kTransB, true>()), grid, T::kThreads, 0, nullptr, p);
  } else {
    CFGAN_LAUNCH((tile_kernel<T, kTransA, kTransB, false>()), grid, T::kThreads, 0, nullptr, p);
  }
}

template <class T>
void launch_tiled(const GemmArgs& g, const GemmParams& p, bool vec) {
  if (g.trans_a && g.trans_b) {
    launch_tiled<T, true, true>(p, vec);
  } else if (g.trans_a) {
    launch_tiled<T, true, false>(p, vec);
  } else if (g.trans_b) {
    launch_tiled<T, false, true>(p, vec);
  } else {
    launch_tiled<T, false, false>(p, vec);
  }
}

void launch_dot(const GemmArgs& g, const GemmParams& p) {
  const unsigned blocks = static_cast<unsigned>(ceil_div(p.batch * p.m * p.n, kDotThreads / 32));
  if (g.trans_a && g.trans_b) {
    CFGAN_LAUNCH((dot_gemm_kernel<true, true>), blocks, kDotThreads, 0, nullptr, p);
  } else if (g.trans_a) {
    CFGAN_LAUNCH((dot_gemm_kernel<true, false>), blocks, kDotThreads, 0, nullptr, p);
  } else if (g.trans_b) {
    CFGAN_LAUNCH((dot_gemm_kernel<false, true>), blocks, kDotThreads, 0, nullptr, p);
  } else {
    CFGAN_LAUNCH((dot_gemm_kernel<false, false>), blocks, kDotThreads, 0, nullptr, p);
  }
}

// The tiled kernel over all products, in launches of at most kMaxGridYZ z-blocks.
// p.c / p.stride_c / p.ldc describe where the kernel writes (C, or the partials).
void run_tiled(const GemmArgs& g, const GemmPlan& plan, GemmParams p) {
  const bool vec = aligned16(g.a) && aligned16(g.b) && g.lda % 4 == 0 && g.ldb % 4 == 0 &&
                   (g.batch == 1 || (g.stride_a % 4 == 0 && g.stride_b % 4 == 0));
  const int64_t per_launch = kMaxGridYZ / plan.splits;
  const int64_t c_per_product = p.stride_c * plan.splits;
  for (int64_t first = 0; first < g.batch; first += per_launch) {
    GemmParams q = p;
    q.batch = std::min(per_launch, g.batch - first);
    q.a += first * g.stride_a, q.b += first * g.stride_b, q.c += first * c_per_product;
    q.c_aligned = aligned16(q.c) && q.ldc % 4 == 0 && (q.batch * plan.splits == 1 || q.stride_c % 4 == 0);
    if (plan.kernel == Kernel::mma) {
      if (g.precision == MatmulPrecision::bf16) {
        launch_tiled<TensorCoreTile<MatmulPrecision::bf16>>(g, q, vec);
      } else {
        launch_tiled<TensorCoreTile<MatmulPrecision::tf32>>(g, q, vec);
      }
    } else if (plan.kernel == Kernel::large_tile) {
      launch_tiled<LargeTile>(g, q, vec);
    } else {
      launch_tiled<SmallTile>(g, q, vec);
    }
  }
}

}  // namespace

int64_t gemm_workspace_floats(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return 0;
  const GemmPlan plan = plan_gemm(g, true);
  return plan.splits > 1 ? g.batch * plan.splits * g.m * g.n : 0;
}

void gemm_with_workspace(const GemmArgs& g, float* workspace) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (ceil_div(g.m, SmallTile::kBM) > kMaxGridYZ) {
    throw std::runtime_error("cuda gemm: M = " + std::to_string(g.m) + " exceeds the supported " +
                             std::to_string(kMaxGridYZ * SmallTile::kBM) + " rows");
  }
  const GemmPlan plan = plan_gemm(g, workspace != nullptr);
  const GemmParams p{.a = g.a, .lda = g.lda, .stride_a = g.stride_a,
                     .b = g.b, .ldb = g.ldb, .stride_b = g.stride_b,
                     .c = g.c, .ldc = g.ldc, .stride_c = g.stride_c,
                     .m = g.m, .n = g.n, .k = g.k, .batch = g.batch,
                     .k_split = plan.k_split, .splits = plan.splits,
                     .alpha = g.alpha, .beta = g.beta, .c_aligned = false, .precision = g.precision};
  if (plan.kernel == Kernel::dot) {
    launch_dot(g, p);
    return;
  }
  if (plan.splits == 1) {
    run_tiled(g, plan, p);
    return;
  }
  GemmParams partial = p;  // slice products, plainly stored: alpha 1, beta 0
  partial.c = workspace, partial.ldc = g.n, partial.stride_c = g.m * g.n;
  partial.alpha = 1.0f, partial.beta = 0.0f;
  run_tiled(g, plan, partial);
  const int64_t blocks = std::min<int64_t>(ceil_div(g.batch * g.m * g.n, kReduceThreads), 8 * kTargetBlocks);
  CFGAN_LAUNCH(split_k_reduce_kernel, static_cast<unsigned>(blocks), kReduceThreads, 0, nullptr, p, workspace);
}

void gemm(const GemmArgs& args) { gemm_with_workspace(args, nullptr); }

}  // namespace cfgan::CFGAN_CUDA_NS
