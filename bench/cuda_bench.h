// What the CUDA benches (bench_cuda_*.cpp) share: the no-GPU exit, the GPU as context,
// device buffers of random floats, and cudaEvent timing reported as manual time.
//
// Each shape runs twice, the vendor library first: its mean time is kept by label so that
// our row can report the ratio. Counters: GFLOP/s (from the mean event time) and on our
// rows vs_<vendor> = vendor time / our time (our GFLOP/s over theirs; > 1: ours is faster).
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/random_floats.h"
#include "kernels/cuda_backends.h"

namespace cfgan::bench {

inline void check(cudaError_t error, const char* what) {
  if (error != cudaSuccess) throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(error));
}

// The benches build wherever the CUDA backend does; without a GPU there is nothing to time.
inline void exit_without_gpu(const char* program) {
  if (cuda::device_count() > 0) return;
  std::printf("%s: no CUDA GPU on this machine (cudaGetDeviceCount finds none): nothing to time\n", program);
  std::exit(0);
}

// main() after registering the benchmarks: the GPU as context, then Google Benchmark.
inline int run_benchmarks(int argc, char** argv) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  benchmark::AddCustomContext("gpu", std::string(prop.name) + ", " + std::to_string(prop.multiProcessorCount) +
                                         " SMs, compute capability " + std::to_string(prop.major) + "." +
                                         std::to_string(prop.minor));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// n floats of device memory, uniform in [-1, 1).
class DeviceBuffer {
 public:
  DeviceBuffer(int64_t n, uint32_t seed) {
    const std::vector<float> host = random_floats(n, seed);
    check(cudaMalloc(&data_, sizeof(float) * std::max<int64_t>(n, 1)), "cudaMalloc");
    check(cudaMemcpy(data_, host.data(), sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* data() { return data_; }

 private:
  float* data_ = nullptr;
};

// Times call() with a cudaEvent pair per iteration (after one untimed warm-up call, which
// pays for handles, plans and caches); returns the mean seconds per call.
template <typename Call>
double time_calls(benchmark::State& state, Call call) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  call();
  check(cudaDeviceSynchronize(), "warm-up");
  double total = 0.0;
  for (auto _ : state) {
    check(cudaEventRecord(start), "cudaEventRecord");
    call();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    state.SetIterationTime(ms * 1e-3);
    total += ms * 1e-3;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return total / static_cast<double>(state.iterations());
}

// Sets the counters of one run; `shape` pairs a vendor row with ours.
// "ours", "cublas", ... for FP32; "ours-tf32", "cublas-bf16", ... otherwise.
inline std::string library_name(const std::string& library, MatmulPrecision p) {
  return p == MatmulPrecision::fp32 ? library : library + "-" + precision_name(p);
}

inline void report(benchmark::State& state, double flops, double seconds, const std::string& shape, bool vendor,
                   const char* ratio_name) {
  static std::map<std::string, double> vendor_seconds;
  state.counters["GFLOP/s"] = flops / seconds * 1e-9;
  if (vendor) {
    vendor_seconds[shape] = seconds;
  } else if (auto it = vendor_seconds.find(shape); it != vendor_seconds.end()) {
    state.counters[ratio_name] = it->second / seconds;
  }
}

}  // namespace cfgan::bench
