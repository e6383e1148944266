// The reference DCGAN's full training step (D on real + fake, then G, Adam) at batch 64
// and 256, with 1 and 2 threads, and the DCGAN-32 RGB step at batch 64. Also counts heap allocations per steady-state step
// (operator new calls; device memory comes from the caching allocator and is counted
// apart as system_allocs). Compare with bench/dcgan_step_torch.py. And D's lazy R1
// update alone, at batch 64 (bench/r1_step_torch.py). And the machine's FMA peak, so that
// a step's GFLOP/s can be read as a share of it from the same run; the same steps with BF16
// products, beside the BF16 pair peak.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "bench/dcgan_fixture.h"
#include "kernels/cpu/gemm_simd.h"

// The replaced global operators pair malloc with free; GCC cannot see that through
// inlining and warns about a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<int64_t> g_news{0};

}  // namespace

void* operator new(size_t bytes) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

using namespace cfgan;

// Times `run` after two warm-up calls, counting heap and device allocations per call.
template <typename Run>
double time_steps(benchmark::State& state, Run run) {
  for (int i = 0; i < 2; ++i) run();
  const int64_t news_before = g_news.load();
  const int64_t system_before = Allocator::get(Device::cpu).stats().system_allocations;
  for (auto _ : state) run();
  const double steps = static_cast<double>(state.iterations());
  state.counters["heap_allocs_per_step"] = static_cast<double>(g_news.load() - news_before) / steps;
  state.counters["system_allocs_per_step"] =
      static_cast<double>(Allocator::get(Device::cpu).stats().system_allocations - system_before) / steps;
  return steps;
}

// One training step of `spec` at the batch and thread count of state's arguments, its
// matrix products in `precision`; `gflop_at_64` is its GEMM-like work at batch 64 (linear
// in batch).
static void time_train_step(benchmark::State& state, const GanSpec& spec, double gflop_at_64,
                            MatmulPrecision precision = MatmulPrecision::fp32) {
  const int64_t batch = state.range(0);
  omp_set_num_threads(static_cast<int>(state.range(1)));
  set_matmul_precision(precision);
  bench::DcganStep step(spec, batch, Device::cpu);
  const double steps = time_steps(state, [&] { step.run(); });
  set_matmul_precision(MatmulPrecision::fp32);
  state.counters["GFLOP/s"] =
      benchmark::Counter(gflop_at_64 * 1e9 * static_cast<double>(batch) / 64.0 * steps, benchmark::Counter::kIsRate);
}

// The settings every training-step benchmark runs: batch 64 (and 256 for the reference
// step) at 1 and 2 threads, each timed for at least 3 seconds.
static void step_settings(benchmark::internal::Benchmark* b, bool batch_256) {
  b->ArgNames({"batch", "threads"})->Args({64, 1})->Args({64, 2});
  if (batch_256) b->Args({256, 1})->Args({256, 2});
  b->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);
}
static void reference_settings(benchmark::internal::Benchmark* b) { step_settings(b, true); }
static void dcgan32_settings(benchmark::internal::Benchmark* b) { step_settings(b, false); }

// 9.44 GFLOP per step at batch 64: forward + backward of every GEMM-like layer (10.29),
// less D's weight gradients in the G update, which are not computed (0.85).
static void BM_DcganTrainStep(benchmark::State& state) { time_train_step(state, GanSpec{}, 9.44); }
BENCHMARK(BM_DcganTrainStep)->Apply(reference_settings);

// The DCGAN-32 family on 32x32 RGB (what the explanation programs train): 24.64 GFLOP per
// step at batch 64, counted as for the reference step (G forward once, D forward three
// times, D's weight and input gradients in the D update bar its first layer's input
// gradient, D's input gradients and G's weight and input gradients in the G update).
static void BM_Dcgan32TrainStep(benchmark::State& state) {
  time_train_step(state, GanSpec{.image_size = 32, .channels = 3}, 24.64);
}
BENCHMARK(BM_Dcgan32TrainStep)->Apply(dcgan32_settings);

// Both steps with BF16 operands (`--precision bf16` in the apps): on AVX-512 BF16 CPUs the
// GEMM's pair micro-kernels (kernels/cpu/gemm_simd.h). Compare with dcgan_step_torch.py
// --precision bf16 and with BM_Bf16PairPeak.
static void BM_DcganTrainStepBf16(benchmark::State& state) {
  time_train_step(state, GanSpec{}, 9.44, MatmulPrecision::bf16);
}
BENCHMARK(BM_DcganTrainStepBf16)->Apply(reference_settings);

static void BM_Dcgan32TrainStepBf16(benchmark::State& state) {
  time_train_step(state, GanSpec{.image_size = 32, .channels = 3}, 24.64, MatmulPrecision::bf16);
}
BENCHMARK(BM_Dcgan32TrainStepBf16)->Apply(dcgan32_settings);

// The lazy R1 update of the reference DCGAN's D (StyleGAN2's interval 16): D on the real
// batch with the batch as a leaf, grad_x D with create_graph, the penalty, its backward
// through the recorded backward, Adam. Compare with bench/r1_step_torch.py.
static void BM_DcganR1Step(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(state.range(0)));
  bench::DcganStep step(GanSpec{}, 64, Device::cpu);
  const R1Regularization r1{.gamma = 10.0f, .every = 16};
  time_steps(state, [&] { step.run_r1(r1); });
}
BENCHMARK(BM_DcganR1Step)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// The arithmetic peak of one micro-kernel step (gemm_simd.h): per thread, 16 independent
// accumulator chains (more than latency x ports on the cores we run on), nothing read from
// memory. `lane_flops` is what one step does per lane: 2 for an FMA, 4 for a BF16 pair.
template <class Step>
static void time_peak(benchmark::State& state, double lane_flops) {
  using Simd = cpu::gemm_detail::Simd;
  constexpr int kChains = 16;
  constexpr int64_t kSteps = 1 << 22;
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      Simd::V acc[kChains];
      for (int i = 0; i < kChains; ++i) acc[i] = Simd::set1(1e-3f * static_cast<float>(i));
      // Small enough that 2^22 steps add up to a finite sum, as FP32 or as BF16 pairs.
      const Simd::V a = Simd::set1(1e-3f), b = Simd::set1(1e-4f);
      for (int64_t step = 0; step < kSteps; ++step) {
        for (int i = 0; i < kChains; ++i) acc[i] = Step::apply(a, b, acc[i]);
      }
      float sum = 0.0f;
      for (int i = 0; i < kChains; ++i) sum += Simd::sum(acc[i]);
      benchmark::DoNotOptimize(sum);
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * kSteps * kChains * Simd::width * lane_flops,
      benchmark::Counter::kIsRate);
}

static void BM_FmaPeak(benchmark::State& state) { time_peak<cpu::gemm_detail::FmaStep>(state, 2); }
BENCHMARK(BM_FmaPeak)->ArgNames({"threads"})->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

#if defined(__AVX512BF16__)
static void BM_Bf16PairPeak(benchmark::State& state) { time_peak<cpu::gemm_detail::Bf16PairStep>(state, 4); }
BENCHMARK(BM_Bf16PairPeak)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);
#endif

BENCHMARK_MAIN();
