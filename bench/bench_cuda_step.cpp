// Memory-bound CUDA kernels in GB/s, and whole DCGAN training steps on the GPU with our
// kernels and with the vendor ones (cuBLAS / cuDNN for GEMM and conv, ours elsewhere).
//
// Bandwidth rows count the least traffic each kernel needs, on 2^26 floats (256 MB, far
// beyond any cache): relu forward reads x and writes y (8 bytes per element); axpy reads
// x and y and writes y (12); batch norm forward reads x for the statistics, then reads x
// and writes y (12); its backward reads x and dy for the sums, then x, dy and dx and
// writes dx, which it accumulates into (24). Compare with the GPU's HBM peak (an H200:
// 4.8 TB/s).
//
// Step rows: the reference DCGAN (28x28x1) at batch 64 and the DCGAN-64 family model
// (64x64x3) at batch 128, one D and one G update with Adam, timed from the host; every
// step ends by reading its losses back, which waits for the GPU.
//
//   build/bench/bench_cuda_step --benchmark_min_time=0.2
//
// Without a GPU it says so and exits 0.
#include "bench/cuda_bench.h"
#include "bench/dcgan_fixture.h"

namespace {

constexpr int64_t kElements = int64_t{1} << 26;

void report_bandwidth(benchmark::State& state, double bytes, double seconds) {
  state.counters["GB/s"] = bytes / seconds * 1e-9;
}

void bench_relu(benchmark::State& state) {
  cfgan::bench::DeviceBuffer x(kElements, 1), y(kElements, 2);
  const cfgan::Kernels& k = cfgan::cuda::hand_kernels();
  const double s = cfgan::bench::time_calls(
      state, [&] { k.unary_forward(cfgan::UnaryOp::relu, 0.0f, 0.0f, y.data(), x.data(), kElements); });
  report_bandwidth(state, 8.0 * kElements, s);
}

void bench_axpy(benchmark::State& state) {
  cfgan::bench::DeviceBuffer x(kElements, 1), y(kElements, 2);
  const cfgan::Kernels& k = cfgan::cuda::hand_kernels();
  const double s = cfgan::bench::time_calls(state, [&] { k.axpy(y.data(), 1e-3f, x.data(), kElements); });
  report_bandwidth(state, 12.0 * kElements, s);
}

// (N, C, HW) = (128, 64, 64 * 64): DCGAN-64's widest batch norm, 2^25 elements.
constexpr int64_t kBnN = 128, kBnC = 64, kBnHw = 64 * 64;

void bench_batch_norm(benchmark::State& state, bool backward) {
  const int64_t n = kBnN * kBnC * kBnHw;
  cfgan::bench::DeviceBuffer x(n, 1), y(n, 2), dy(n, 3), gamma(kBnC, 4), beta(kBnC, 5), mean(kBnC, 6),
      invstd(kBnC, 7), dgamma(kBnC, 8), dbeta(kBnC, 9);
  const cfgan::Kernels& k = cfgan::cuda::hand_kernels();
  cfgan::bench::DeviceBuffer workspace((k.batch_norm_workspace_bytes(kBnN, kBnC, kBnHw) + 3) / 4, 10);
  auto forward = [&] {
    k.batch_norm_forward_train(y.data(), mean.data(), invstd.data(), nullptr, nullptr, x.data(), gamma.data(),
                               beta.data(), kBnN, kBnC, kBnHw, 0.1f, 1e-5f, workspace.data());
  };
  if (!backward) {
    report_bandwidth(state, 12.0 * n, cfgan::bench::time_calls(state, forward));
    return;
  }
  forward();  // the statistics the backward reads
  const double s = cfgan::bench::time_calls(state, [&] {
    k.batch_norm_backward(y.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(), invstd.data(),
                          gamma.data(), kBnN, kBnC, kBnHw, workspace.data(), true);
  });
  report_bandwidth(state, 24.0 * n, s);
}

void bench_step(benchmark::State& state, const cfgan::GanSpec& spec, int64_t batch, bool vendor,
                cfgan::MatmulPrecision precision) {
  cfgan::use_cuda_kernels(vendor ? &cfgan::cuda::vendor_kernels() : &cfgan::cuda::hand_kernels());
  cfgan::set_matmul_precision(precision);
  {
    cfgan::bench::DcganStep step(spec, batch, cfgan::Device::cuda);
    for (int i = 0; i < 2; ++i) step.run();  // warm-up
    for (auto _ : state) step.run();
  }
  cfgan::use_cuda_kernels(nullptr);  // after the step's device memory is released
  cfgan::set_matmul_precision(cfgan::MatmulPrecision::fp32);
}

}  // namespace

int main(int argc, char** argv) {
  cfgan::bench::exit_without_gpu("bench_cuda_step");
  benchmark::RegisterBenchmark("bandwidth/relu_forward", bench_relu)->UseManualTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("bandwidth/axpy", bench_axpy)->UseManualTime()->Unit(benchmark::kMicrosecond);
  for (bool backward : {false, true}) {
    benchmark::RegisterBenchmark(backward ? "bandwidth/batch_norm_backward" : "bandwidth/batch_norm_forward_train",
                                 [backward](benchmark::State& state) { bench_batch_norm(state, backward); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  cfgan::GanSpec dcgan28;
  cfgan::GanSpec dcgan64;
  dcgan64.image_size = 64, dcgan64.channels = 3;
  struct Model {
    const char* name;
    cfgan::GanSpec spec;
    int64_t batch;
  };
  for (const Model& m : {Model{"dcgan28/batch:64", dcgan28, 64}, Model{"dcgan64/batch:128", dcgan64, 128}}) {
    // FP32, then TF32 and BF16 products (--precision); cuDNN has no BF16 path on FP32 tensors.
    for (cfgan::MatmulPrecision p :
         {cfgan::MatmulPrecision::fp32, cfgan::MatmulPrecision::tf32, cfgan::MatmulPrecision::bf16}) {
      for (bool vendor : {false, true}) {
        if (vendor && p == cfgan::MatmulPrecision::bf16) continue;
        benchmark::RegisterBenchmark(
            (std::string("step/") + m.name + "/" + cfgan::bench::library_name(vendor ? "vendor" : "ours", p)).c_str(),
            [m, vendor, p](benchmark::State& state) { bench_step(state, m.spec, m.batch, vendor, p); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return cfgan::bench::run_benchmarks(argc, argv);
}
