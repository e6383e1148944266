// train_shift: trains the shift predictor of contrastive counterfactuals (models/contrastive/)
// in the latent space of a frozen train_gan generator, against a frozen attribute classifier,
// and writes a run directory like train_gan's; its sample grids show, per row, a factual decode
// and one counterfactual per target attribute (that attribute flipped from what the judge reads).
//
//   train_shift --generator runs/world-gan --classifier runs/judge --targets Large,Round,Red
//               --steps 3000 --out runs/shift
//   train_shift --resume runs/shift --steps 6000
#include <chrono>
#include <cstdio>
#include <optional>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "apps/common/loop_flags.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/contrastive/shift_trainer.h"

using namespace cfgan;

namespace {

int run(int argc, char** argv) {
  const auto launched = std::chrono::steady_clock::now();
  Flags flags(argc, argv, "train_shift",
              "train a shift predictor: attribute edits in a frozen generator's latent space");
  std::optional<RunDir> resumed = declare_resume_flag(flags);
  const bool resuming = resumed.has_value();
  const std::string generator_flag = flags.get("generator", "", "train_gan run or checkpoint (frozen)");
  const std::string judge_flag =
      flags.get("classifier", "", "train_classifier run or checkpoint with attribute heads (frozen)");
  const std::vector<std::string> targets =
      flags.get_list("targets", "", "the attributes S learns to set, e.g. Large,Round,Red");
  ShiftTrainConfig config;
  config.spec.hidden = flags.get_int("hidden", 1024, "width of S's two hidden layers");
  config.batch = flags.get_int("batch", 8, "latent codes per step");
  config.lr = static_cast<float>(flags.get_double("lr", 1e-4, "Adam learning rate (betas 0.9, 0.999)"));
  config.faithfulness =
      static_cast<float>(flags.get_double("faithfulness", 0.05, "weight of mean ||dw||_2 (small edits)"));
  config.spread = static_cast<float>(flags.get_double("spread", 0.1, "a batch is z0 + spread * eps around one z0"));
  config.seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of S's weights, codes, targets and dropout"));
  config.device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  const MatmulPrecision precision = declare_precision_flag(flags);
  TrainingLoopOptions loop = declare_loop_flags(flags, "train_shift", 3000);
  const int64_t threads = flags.get_int("threads", max_threads(), "CPU threads");
  const std::string out = flags.get("out", "runs/train_shift", "run directory");
  flags.finish();
  check_loop_flags(loop);
  set_threads(static_cast<int>(threads));
  CFGAN_CHECK(!generator_flag.empty() && !judge_flag.empty(), "--generator and --classifier are required (see --help)");

  config.spec.targets = targets;
  CFGAN_CHECK(!config.spec.targets.empty(), "--targets: give the attributes to edit, e.g. --targets Large,Red");
  const std::string generator = resolve_checkpoint(generator_flag, "--generator");
  const std::string judge = resolve_checkpoint(judge_flag, "--classifier");
  FrozenModels frozen = load_frozen_models(generator, judge, config.spec.targets, config.device);
  config.spec.latent_dim = frozen.gan.z_dim;
  RunDir run = resumed ? std::move(*resumed) : RunDir(out, false);
  ShiftTrainer trainer(config, frozen);
  if (resuming) {
    const std::string checkpoint = *run.latest_checkpoint();
    trainer.load(checkpoint);
    std::printf("train_shift: resumed %s at step %ld\n", checkpoint.c_str(), static_cast<long>(trainer.steps_done()));
  }
  run.write_config(flags.effective());  // after the checkpoint accepted this run's flags
  std::printf(
      "train_shift: S over z (%ld) + %ld targets (%s), %ld parameters, batch %ld; generator %s, judge %s; "
      "device %s (%s products), %ld threads, writing %s (started in %.2f s)\n",
      static_cast<long>(config.spec.latent_dim), static_cast<long>(config.spec.num_targets()),
      flags.effective().at("targets").c_str(), static_cast<long>(trainer.predictor().parameter_count()),
      static_cast<long>(config.batch), generator.c_str(), judge.c_str(), device_name(config.device),
      precision_name(precision), static_cast<long>(threads), run.path().c_str(), seconds_since(launched));
  std::fflush(stdout);

  ShiftTrainer::describe(loop);
  const TrainingOutcome done = run_training_loop(trainer, run, loop);
  return report_outcome(done, run, "train_shift", "factual | one column per target, flipped");
}

}  // namespace

int main(int argc, char** argv) { return run_app("train_shift", run, argc, argv); }
