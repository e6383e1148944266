// One train_shift step at its defaults: the shift predictor S (z 100 + 6 targets -> 1024 -> 1024
// -> 100, dropout 0.2 / 0.1), batch 8, through a frozen DCGAN-32 generator (z 100, width 64) and a
// frozen attribute classifier (width 32, 128 features, 6 heads), 1 and 2 threads. The frozen
// networks hold their initial weights: the time does not depend on what they learned.
// Compare with bench/shift_step_torch.py.
#include <benchmark/benchmark.h>

#include "engine/threads.h"
#include "models/contrastive/shift_trainer.h"

using namespace cfgan;

static void BM_ShiftTrainStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(0)));
  const std::vector<std::string> targets{"A", "B", "C", "D", "E", "F"};
  FrozenModels frozen;
  frozen.gan.image_size = 32, frozen.gan.channels = 3, frozen.gan.z_dim = 100, frozen.gan.width = 64;
  frozen.generator = make_generator(frozen.gan);
  frozen.generator->eval();
  frozen.generator->requires_grad_(false);
  ClassifierSpec cs;
  cs.image_size = 32, cs.channels = 3, cs.num_classes = 6, cs.multi_label = true;
  frozen.judge = {std::make_shared<Classifier>(cs), targets, 1.0};
  frozen.judge.model->eval();
  frozen.judge.model->requires_grad_(false);
  frozen.heads = {0, 1, 2, 3, 4, 5};
  ShiftTrainConfig config;
  config.spec.latent_dim = 100;
  config.spec.targets = targets;
  ShiftTrainer trainer(config, frozen);
  for (int i = 0; i < 3; ++i) trainer.step();  // warm-up
  for (auto _ : state) trainer.step();
}
BENCHMARK(BM_ShiftTrainStep)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
