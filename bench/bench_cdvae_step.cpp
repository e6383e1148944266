// One CDVAE-GAN training step (critic update, then encoder + decoder with the critic
// frozen) at train_cdvae's defaults: 32x32 RGB, width 32, z 32, 6 attribute codes, batch 64,
// 1 and 2 threads. Compare with bench/cdvae_step_torch.py.
#include <benchmark/benchmark.h>

#include "engine/threads.h"
#include "models/cdvae/trainer.h"

using namespace cfgan;

static void BM_CdvaeTrainStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(0)));
  ImageDataset data;
  data.count = 256, data.channels = 3, data.height = data.width = 32;
  data.class_names = {"all"};
  data.labels.assign(256, 0);
  Generator gen(1);
  for (float v : Tensor::rand({256 * 3 * 32 * 32}, gen, Device::cpu, 0.0f, 255.0f).to_host())
    data.pixels.push_back(static_cast<uint8_t>(v));
  data.attribute_names = {"A", "B", "C", "D", "E", "F"};
  for (float v : Tensor::rand({256 * 6}, gen).to_host()) data.attributes.push_back(v < 0.5f ? 1 : -1);
  CdvaeConfig config;
  config.spec.attributes = data.attribute_names;
  config.spec.prior.assign(6, 0.5f);
  CdvaeTrainer trainer(config, data);
  for (int i = 0; i < 2; ++i) trainer.step();  // warm-up
  for (auto _ : state) trainer.step();
}
BENCHMARK(BM_CdvaeTrainStep)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
