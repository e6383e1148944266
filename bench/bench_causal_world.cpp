// The causal world's two heavy jobs at the sizes the docs promise: writing a 100,000-image
// 32x32 split (PNGs, attributes, U, masks) and the true NEC/SUF/NESUF of all six attributes
// over 10,000 units read by the CPU attribute classifier (its weights do not change the cost,
// so a freshly initialised one stands in for a trained judge). One iteration each: a run is
// tens of seconds.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <numeric>

#include "engine/threads.h"
#include "models/classifier.h"
#include "models/world/scores.h"
#include "models/world/world_dir.h"

using namespace cfgan;

static void BM_GenerateWorld(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = draw_split(spec, state.range(0), SplitOptions{});
  const std::string dir = (std::filesystem::temp_directory_path() / "cfgan_bench_world").string();
  for (auto _ : state) {
    std::filesystem::remove_all(dir);
    write_world(dir, spec, units, LabelRule::parse(spec, "Round"), nlohmann::json::object());
  }
  std::filesystem::remove_all(dir);
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.range(0) * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GenerateWorld)->Args({100000, 2})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

static void BM_TrueScores(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, state.range(0), 1, 5);
  ClassifierSpec cs;
  cs.image_size = 32, cs.channels = 3, cs.num_classes = spec.num_attributes(), cs.multi_label = true;
  Classifier judge(cs);
  judge.eval();
  std::vector<int> all(static_cast<size_t>(spec.num_attributes()));
  std::iota(all.begin(), all.end(), 0);
  for (auto _ : state)
    benchmark::DoNotOptimize(true_causal_scores(spec, units, all, Effect::total, decide_with_classifier(judge, 0)));
  // One factual and one flipped image per attribute per unit are rendered and classified.
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.range(0) * (1 + spec.num_attributes()) * state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrueScores)->Args({10000, 2})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

BENCHMARK_MAIN();
