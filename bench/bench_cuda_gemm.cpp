// Our CUDA GEMM (kernels/cuda/gemm.cu, the table's gemm: no scratch, so never split
// along K) against cuBLAS (cublasGemmStridedBatchedEx on FP32 matrices) in each precision
// (FP32; TF32 and BF16 on the tensor cores: library names ours-tf32, cublas-tf32, ...), on squares and on the
// whole-batch GEMMs of a DCGAN-64 training step at batch 128: each k4 s2 p1 layer
// lowered as kernels/cuda/conv.cu does (fwd: W x col; dgrad: W^T x dout; wgrad:
// dout x col^T, accumulating). A D conv layer and its mirror G convT layer share the
// geometry, with fwd and dgrad swapped. See bench/cuda_bench.h for the timing and the
// counters (GFLOP/s, vs_cublas).
//
//   build/bench/bench_cuda_gemm --benchmark_min_time=0.2
//
// Without a GPU it says so and exits 0.
#include <string>
#include <vector>

#include "bench/cuda_bench.h"

namespace {

using cfgan::GemmArgs;

struct GemmShape {
  std::string label;
  GemmArgs args;  // everything but the pointers
};

GemmArgs dense(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float beta) {
  GemmArgs g;
  g.trans_a = trans_a, g.trans_b = trans_b;
  g.m = m, g.n = n, g.k = k;
  g.lda = trans_a ? m : k, g.ldb = trans_b ? k : n, g.ldc = n;
  g.beta = beta;
  return g;
}

std::vector<GemmShape> shapes() {
  std::vector<GemmShape> s;
  for (int64_t size : {512, 1024, 2048, 4096, 8192}) s.push_back({"square", dense(false, false, size, size, size, 0.0f)});
  // (D layer | G layer, C in, K out, input side) at batch 128, all k4 s2 p1: output side
  // = input side / 2, CRS = 16 C, N*P*Q = 128 (side/2)^2.
  struct Layer {
    const char* name;
    int64_t c, k, side;
  };
  for (const Layer& l : {Layer{"D.conv1|G.convT5", 3, 64, 64}, Layer{"D.conv2|G.convT4", 64, 128, 32},
                         Layer{"D.conv3|G.convT3", 128, 256, 16}, Layer{"D.conv4|G.convT2", 256, 512, 8}}) {
    const int64_t crs = 16 * l.c, npq = 128 * (l.side / 2) * (l.side / 2);
    s.push_back({std::string(l.name) + ".fwd", dense(false, false, l.k, npq, crs, 0.0f)});
    s.push_back({std::string(l.name) + ".dgrad", dense(true, false, crs, npq, l.k, 0.0f)});
    s.push_back({std::string(l.name) + ".wgrad", dense(false, true, l.k, crs, npq, 1.0f)});
  }
  return s;
}

void bench_gemm(benchmark::State& state, const GemmArgs& args, const std::string& shape, bool vendor,
                cfgan::MatmulPrecision precision) {
  GemmArgs g = args;
  g.precision = precision;
  cfgan::bench::DeviceBuffer a((g.trans_a ? g.k : g.m) * g.lda, 1), b((g.trans_b ? g.n : g.k) * g.ldb, 2),
      c(g.m * g.ldc, 3);
  g.a = a.data(), g.b = b.data(), g.c = c.data();
  const cfgan::Kernels& k = vendor ? cfgan::cuda::vendor_kernels() : cfgan::cuda::hand_kernels();
  const double seconds = cfgan::bench::time_calls(state, [&] { k.gemm(g); });
  cfgan::bench::report(state, 2.0 * double(g.m) * double(g.n) * double(g.k), seconds,
                       shape + cfgan::precision_name(precision), vendor, "vs_cublas");
}

}  // namespace

int main(int argc, char** argv) {
  cfgan::bench::exit_without_gpu("bench_cuda_gemm");
  for (const GemmShape& s : shapes()) {
    const GemmArgs& g = s.args;
    const std::string shape = s.label + "/" + std::to_string(g.m) + "x" + std::to_string(g.n) + "x" +
                              std::to_string(g.k) + "/" + (g.trans_a ? "T" : "N") + (g.trans_b ? "T" : "N");
    for (cfgan::MatmulPrecision p :
         {cfgan::MatmulPrecision::fp32, cfgan::MatmulPrecision::tf32, cfgan::MatmulPrecision::bf16}) {
      for (bool vendor : {true, false}) {
        const std::string library = cfgan::bench::library_name(vendor ? "cublas" : "ours", p);
        benchmark::RegisterBenchmark(("gemm/" + library + "/" + shape).c_str(),
                                     [g, vendor, shape, p](benchmark::State& state) {
                                       bench_gemm(state, g, shape, vendor, p);
                                     })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return cfgan::bench::run_benchmarks(argc, argv);
}
