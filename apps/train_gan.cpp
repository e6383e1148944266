// train_gan: trains a GAN on Fashion-MNIST or a folder of images and writes a run
// directory: config.json, metrics.jsonl, samples/step_*.png (a grid from one fixed noise
// batch), checkpoints/ (atomic safetensors, newest kept), loss.png and summary.txt.
//
//   train_gan --steps 3000 --out runs/fmnist
//   train_gan --resume runs/fmnist --steps 6000     # continue exactly where it stopped
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include "apps/common/app.h"
#include "apps/common/data_flags.h"
#include "apps/common/flags.h"
#include "apps/common/loop_flags.h"
#include "engine/data/dataset.h"
#include "engine/engine.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "engine/run/training_loop.h"
#include "engine/threads.h"
#include "models/gan_trainer.h"
#include "models/regularizers.h"

using namespace cfgan;

namespace {

// The classes a conditional sample grid cycles through: those present in the data.
std::vector<int32_t> grid_labels(const ImageDataset& data, int64_t n) {
  std::vector<int32_t> present;
  for (int32_t c = 0; c < data.num_classes(); ++c) {
    if (std::find(data.labels.begin(), data.labels.end(), c) != data.labels.end()) present.push_back(c);
  }
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(present[i % present.size()]);
  return labels;
}

int run(int argc, char** argv) {
  const auto launched = std::chrono::steady_clock::now();
  Flags flags(argc, argv, "train_gan", "train a GAN and write a run directory");
  std::optional<RunDir> resumed = declare_resume_flag(flags);
  const bool resuming = resumed.has_value();
  const DataChoice data_choice = declare_data_flags(flags);
  const int64_t image_size = data_choice.image_size;
  GanTrainConfig config;
  config.spec.discriminator = flags.get("model", "dcgan", "discriminator: dcgan (batch norm) or sngan (spectral norm)");
  const bool conditional = flags.get_bool("conditional", "class-conditional G and projection D");
  config.spec.z_dim = flags.get_int("z-dim", 100, "noise dimensions");
  config.spec.width = flags.get_int("width", 64, "base channel width of G and D");
  config.loss = parse_gan_loss(flags.get("loss", "bce", "bce (non-saturating) or hinge"));
  config.batch = flags.get_int("batch", 64, "batch size");
  TrainingLoopOptions loop = declare_loop_flags(flags, "train_gan", 3000);
  config.lr_g = config.lr_d = static_cast<float>(flags.get_double("lr", 2e-4, "Adam learning rate of G and D"));
  const std::string betas = flags.get("betas", "0.5,0.999", "Adam betas");
  config.ema_decay = static_cast<float>(flags.get_double("ema-decay", 0.999, "EMA of G's weights (0: off)"));
  const bool ur = flags.get_bool("ur", "add Uniformity Regularization (distribution level) to G's loss");
  const bool er = flags.get_bool("er", "add Entropy Regularization (sample level) to G's loss");
  const double ur_weight = flags.get_double("ur-weight", kUrWeight, "weight of UR(f_G) + UR(f_D)");
  const double er_weight = flags.get_double("er-weight", kErWeight, "weight of ER(f_G) + ER(f_D)");
  const double r1_gamma =
      flags.get_double("r1", 0, "R1 penalty weight gamma on D: (gamma/2) E||grad_x D(x)||^2 on reals (0: off)");
  const int64_t r1_every =
      flags.get_int("r1-every", 16,
                    "D steps per R1 penalty; > 1: lazy, as StyleGAN2 (penalty x N, D's Adam lr*c, betas^c, c=N/(N+1))");
  const std::vector<int32_t> reg_layers =
      flags.get_int_list("reg-layers", "feature blocks of G and D for UR/ER, e.g. 1,1 (default: the models' own)");
  config.seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of weights, data order and noise"));
  config.device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  const MatmulPrecision precision = declare_precision_flag(flags);
  const int64_t threads = flags.get_int("threads", max_threads(), "CPU threads");
  const std::string out = flags.get("out", "runs/train_gan", "run directory");
  flags.finish();
  check_loop_flags(loop);
  CFGAN_CHECK(std::sscanf(betas.c_str(), "%f,%f", &config.beta1, &config.beta2) == 2, "--betas: expected two ",
              "numbers like 0.5,0.999, got '", betas, "'");
  set_threads(static_cast<int>(threads));
  CFGAN_CHECK(ur_weight > 0 && er_weight > 0, "--ur-weight and --er-weight must be positive, got ", ur_weight, " and ",
              er_weight);
  CFGAN_CHECK(reg_layers.empty() || reg_layers.size() == 2, "--reg-layers: expected two block numbers G,D, got ",
              reg_layers.size());
  CFGAN_CHECK(r1_gamma >= 0, "--r1: gamma must be >= 0, got ", r1_gamma);
  CFGAN_CHECK(r1_every >= 1, "--r1-every: must be >= 1, got ", r1_every);
  config.r1.gamma = static_cast<float>(r1_gamma);
  config.r1.every = r1_every;
  config.reg.ur_weight = ur ? static_cast<float>(ur_weight) : 0.0f;
  config.reg.er_weight = er ? static_cast<float>(er_weight) : 0.0f;
  if (!reg_layers.empty()) config.reg.g_block = reg_layers[0], config.reg.d_block = reg_layers[1];

  const ImageDataset data = read_training_images(data_choice, config.seed);
  const double load_seconds = seconds_since(launched);
  config.spec.image_size = image_size;
  config.spec.channels = data.channels;
  config.spec.num_classes = conditional ? data.num_classes() : 0;
  RunDir run = resumed ? std::move(*resumed) : RunDir(out, false);
  run.write_config(flags.effective());

  GanTrainer trainer(config, data);
  if (resuming) {
    const std::string checkpoint = *run.latest_checkpoint();
    trainer.load(checkpoint);
    std::printf("train_gan: resumed %s at step %ld\n", checkpoint.c_str(), static_cast<long>(trainer.steps_done()));
  }
  char r1_text[64] = "";
  if (config.r1.enabled())
    std::snprintf(r1_text, sizeof r1_text, " + R1 %g every %ld", r1_gamma, static_cast<long>(r1_every));
  std::printf("train_gan: %ld images (%s), %ldx%ldx%ld, model %s%s, loss %s%s%s%s, batch %ld, device %s (%s products), %ld threads\n",
              static_cast<long>(data.count), data.source.c_str(), static_cast<long>(data.channels),
              static_cast<long>(image_size), static_cast<long>(image_size), config.spec.discriminator.c_str(),
              conditional ? " (conditional)" : "", gan_loss_name(config.loss), ur ? " + UR" : "", er ? " + ER" : "",
              r1_text, static_cast<long>(config.batch), device_name(config.device), precision_name(precision),
              static_cast<long>(threads));
  std::printf("train_gan: writing %s (data loaded in %.2f s, first step %.2f s after start)\n", run.path().c_str(),
              load_seconds, seconds_since(launched));
  std::fflush(stdout);

  Generator fixed_noise(config.seed + 1000);
  GanTrainingJob job(trainer, Tensor::randn({64, config.spec.z_dim}, fixed_noise, config.device),
                     grid_labels(data, 64));
  GanTrainingJob::describe(loop);
  const TrainingOutcome done = run_training_loop(job, run, loop);
  return report_outcome(done, run, "train_gan", "one fixed noise batch");
}

}  // namespace

int main(int argc, char** argv) { return run_app("train_gan", run, argc, argv); }
