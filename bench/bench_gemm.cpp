// Our CPU GEMM against OpenBLAS, at 1 and 2 threads, on squares and on every GEMM a
// batch-64 DCGAN training step performs (shapes from the conv lowering in
// kernels/cpu/conv.cpp and engine/ops/conv.cpp, and from engine/ops/matmul.cpp). The
// 14x14 layers' forward and input gradient run per image (the "per-image" rows); their
// whole-batch rows are kept for comparison.
// Each benchmark reports the GFLOP/s counter (2 m n k per product, wall-clock time);
// for a batch of products OpenBLAS runs one cblas_sgemm per product.
//
//   OPENBLAS_CORETYPE=SkylakeX build/bench/bench_gemm --benchmark_filter=ours
//   OPENBLAS_CORETYPE=SkylakeX build/bench/bench_gemm --benchmark_filter=openblas
//
// Debian's OpenBLAS picks its kernels at load time from the CPU model; under a
// hypervisor it may not recognise the CPU and fall back to its slowest (SSE3, "Prescott")
// kernels, hence OPENBLAS_CORETYPE (the "openblas" context line shows the core in use).
// Running the two libraries in separate processes keeps one library's idle, spinning
// worker threads from stealing a core from the other.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/random_floats.h"
#include "kernels/kernels.h"

namespace {

struct GemmShape {
  std::string label;     // the DCGAN passes that run this product, or "square"
  cfgan::GemmArgs args;  // everything but the pointers
};

cfgan::GemmArgs dense(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float beta) {
  cfgan::GemmArgs g;
  g.trans_a = trans_a, g.trans_b = trans_b;
  g.m = m, g.n = n, g.k = k;
  g.lda = trans_a ? m : k, g.ldb = trans_b ? k : n, g.ldc = n;
  g.beta = beta;
  return g;
}

// The per-image products of kernels/cpu/conv.cpp for layers whose P*Q fills the register
// tiles: image i's product reads or writes columns [i*pq, (i+1)*pq) of the (rows, N*P*Q)
// column matrix, and its own (channels, P*Q) block of the NCHW tensor.
cfgan::GemmArgs per_image(bool trans_a, int64_t m, int64_t pq, int64_t k, int64_t images, bool columns_in_b) {
  cfgan::GemmArgs g = dense(trans_a, false, m, pq, k, 0.0f);
  g.batch = images;
  if (columns_in_b) {  // forward: out_i (K, PQ) = W col_i
    g.ldb = images * pq, g.stride_b = pq;
    g.stride_c = m * pq;
  } else {  // input gradient: col_i (CRS, PQ) = W^T dout_i
    g.stride_b = k * pq;
    g.ldc = images * pq, g.stride_c = pq;
  }
  return g;
}

std::vector<GemmShape> shapes() {
  std::vector<GemmShape> s;
  for (int64_t size : {256, 512, 1024, 2048}) s.push_back({"square", dense(false, false, size, size, size, 0.0f)});
  // conv2d as one GEMM over the batch: forward M=K_out N=batch*P*Q K=C*R*S; the input
  // gradient is the transposed-A product into the column matrix; the weight gradient
  // accumulates with transposed B. A transposed convolution runs the same three products
  // with the roles swapped.
  s.push_back({"D.conv1.fwd|G.convT2.dgrad", dense(false, false, 64, 12544, 16, 0.0f)});
  s.push_back({"D.conv1.dgrad|G.convT2.fwd", dense(true, false, 16, 12544, 64, 0.0f)});
  s.push_back({"D.conv1.wgrad|G.convT2.wgrad", dense(false, true, 64, 16, 12544, 1.0f)});
  s.push_back({"D.conv2.fwd|G.convT1.dgrad", dense(false, false, 128, 3136, 1024, 0.0f)});
  s.push_back({"D.conv2.dgrad|G.convT1.fwd", dense(true, false, 1024, 3136, 128, 0.0f)});
  s.push_back({"D.conv2.wgrad|G.convT1.wgrad", dense(false, true, 128, 1024, 3136, 1.0f)});
  // What kernels/cpu/conv.cpp runs instead at the 14x14 layer: 64 products, one per image.
  s.push_back({"D.conv1.fwd|G.convT2.dgrad(per-image)", per_image(false, 64, 196, 16, 64, true)});
  s.push_back({"D.conv1.dgrad|G.convT2.fwd(per-image)", per_image(true, 16, 196, 64, 64, false)});
  s.push_back({"G.linear.fwd", dense(false, true, 64, 6272, 100, 0.0f)});
  s.push_back({"G.linear.wgrad", dense(true, false, 6272, 100, 64, 1.0f)});
  s.push_back({"D.linear.fwd", dense(false, true, 64, 1, 6272, 0.0f)});
  s.push_back({"D.linear.dgrad", dense(false, false, 64, 6272, 1, 1.0f)});
  s.push_back({"D.linear.wgrad", dense(true, false, 1, 6272, 64, 1.0f)});
  return s;
}

// Floats spanned by a batch of `rows` x ld matrices `stride` apart.
int64_t extent(int64_t batch, int64_t stride, int64_t rows, int64_t ld) { return (batch - 1) * stride + rows * ld; }

void bench_gemm(benchmark::State& state, const GemmShape& s, bool openblas, int threads) {
  cfgan::GemmArgs g = s.args;
  std::vector<float> a = random_floats(extent(g.batch, g.stride_a, g.trans_a ? g.k : g.m, g.lda), 1);
  std::vector<float> b = random_floats(extent(g.batch, g.stride_b, g.trans_b ? g.n : g.k, g.ldb), 2);
  std::vector<float> c = random_floats(extent(g.batch, g.stride_c, g.m, g.ldc), 3);
  g.a = a.data(), g.b = b.data(), g.c = c.data();
  if (openblas) {
    openblas_set_num_threads(threads);
  } else {
    omp_set_num_threads(threads);
  }
  for (auto _ : state) {
    if (openblas) {
      for (int64_t i = 0; i < g.batch; ++i) {
        cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans, g.m,
                    g.n, g.k, g.alpha, g.a + i * g.stride_a, g.lda, g.b + i * g.stride_b, g.ldb, g.beta,
                    g.c + i * g.stride_c, g.ldc);
      }
    } else {
      cfgan::cpu_kernels().gemm(g);
    }
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(g.batch) * double(g.m) * double(g.n) * double(g.k);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (bool openblas : {false, true}) {
    for (int threads : {1, 2}) {
      for (const GemmShape& s : shapes()) {
        const cfgan::GemmArgs& g = s.args;
        const std::string name =
            std::string("gemm/") + (openblas ? "openblas" : "ours") + "/threads:" + std::to_string(threads) + "/" +
            s.label + "/" + (g.batch > 1 ? std::to_string(g.batch) + "x" : "") + std::to_string(g.m) + "x" +
            std::to_string(g.n) + "x" + std::to_string(g.k) + "/" + (g.trans_a ? "T" : "N") + (g.trans_b ? "T" : "N");
        benchmark::RegisterBenchmark(name.c_str(), bench_gemm, s, openblas, threads)->UseRealTime();
      }
    }
  }
  const std::string core = openblas_get_corename();
  benchmark::AddCustomContext("openblas", std::string(openblas_get_config()) + " core " + core);
  if (core == "Prescott") {
    std::fprintf(stderr, "warning: OpenBLAS runs its generic SSE3 kernels; set OPENBLAS_CORETYPE (e.g. SkylakeX)\n");
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
