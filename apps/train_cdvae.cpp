// train_cdvae: trains a CDVAE-GAN (models/cdvae/) on images with binary attribute labels —
// the causal world, a folder with a CelebA-format attribute file, or CelebA — and writes a
// run directory like train_gan's; its sample grids show, per row, an original, its
// reconstruction and one counterfactual per flipped attribute.
//
//   train_cdvae --data worlds/train --image-size 32 --minutes 30 --out runs/cdvae
//   train_cdvae --resume runs/cdvae --steps 20000
#include <chrono>
#include <cstdio>
#include <optional>

#include "apps/common/app.h"
#include "apps/common/data_flags.h"
#include "apps/common/flags.h"
#include "apps/common/loop_flags.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/cdvae/trainer.h"

using namespace cfgan;

namespace {

// P(a_k = 1) in the training images, kept off 0 and 1 so the codes' KL stays finite.
std::vector<float> attribute_frequencies(const ImageDataset& data) {
  const int64_t k = data.num_attributes();
  std::vector<float> p(static_cast<size_t>(k), 0.0f);
  for (int64_t i = 0; i < data.count; ++i)
    for (int64_t j = 0; j < k; ++j) p[j] += data.attributes[i * k + j] > 0 ? 1.0f / data.count : 0.0f;
  for (float& v : p) v = std::clamp(v, 0.01f, 0.99f);
  return p;
}

int run(int argc, char** argv) {
  const auto launched = std::chrono::steady_clock::now();
  Flags flags(argc, argv, "train_cdvae", "train a CDVAE-GAN: attribute counterfactuals by flipping Bernoulli codes");
  std::optional<RunDir> resumed = declare_resume_flag(flags);
  const bool resuming = resumed.has_value();
  const DataChoice data_choice = declare_data_flags(flags);
  CdvaeConfig config;
  config.spec.z_dim = flags.get_int("z-dim", 32, "Gaussian code dimensions");
  config.spec.width = flags.get_int("width", 32, "base channel width of E, G and D");
  config.spec.discriminator = flags.get("model", "dcgan", "critic: dcgan (batch norm) or sngan (spectral norm)");
  config.batch = flags.get_int("batch", 64, "batch size");
  config.lr =
      static_cast<float>(flags.get_double("lr", config.lr, "Adam learning rate of E, G and D (betas 0.5, 0.999)"));
  config.ema_decay =
      static_cast<float>(flags.get_double("ema-decay", 0.0, "EMA of E's and G's weights for sampling (0: off)"));
  CdvaeWeights& w = config.weights;
  w.kl_z = static_cast<float>(flags.get_double("kl-z", w.kl_z, "weight of KL(q(z|x) || N(0, I))"));
  w.kl_a = static_cast<float>(flags.get_double("kl-a", w.kl_a, "weight of the codes' KL to their prior"));
  w.sup = static_cast<float>(flags.get_double("sup", w.sup, "weight of the attribute BCE on labelled images"));
  w.rec = static_cast<float>(flags.get_double("rec", w.rec, "weight of the critic-feature reconstruction"));
  w.l1 = static_cast<float>(flags.get_double("l1", w.l1, "weight of the pixel L1 reconstruction (0: off)"));
  w.adv = static_cast<float>(flags.get_double("adv", w.adv, "weight of the adversarial loss"));
  w.flip = static_cast<float>(flags.get_double(
      "flip", w.flip, "weight of the flip loss: E's frozen code head reads G's one-attribute flips (0: off)"));
  w.flip_adv = static_cast<float>(flags.get_double(
      "flip-adv", w.flip_adv, "weight of the adversarial loss on the flipped decodes (with --flip > 0; 0: off)"));
  w.critic_attr = static_cast<float>(flags.get_double(
      "critic-attr", w.critic_attr, "weight of the critic's attribute head, trained on real images' labels (0: off)"));
  // Its default follows the two terms it needs, so --flip 0 or --critic-attr 0 alone turns it off.
  w.flip_critic = static_cast<float>(flags.get_double(
      "flip-critic", w.flip > 0.0f && w.critic_attr > 0.0f ? w.flip_critic : 0.0f,
      "weight of the critic's attribute head reading the flips (needs --flip, --critic-attr)"));
  w.latent = static_cast<float>(flags.get_double(
      "latent-adv", w.latent, "weight of the latent adversary: E hides the attributes from a reader of mu (0: off)"));
  config.tau_start = static_cast<float>(flags.get_double("tau", config.tau_start, "Concrete temperature at step 0"));
  config.tau_end = static_cast<float>(flags.get_double("tau-end", config.tau_end, "temperature after --tau-steps"));
  config.tau_steps = flags.get_int("tau-steps", config.tau_steps, "steps of the geometric temperature annealing");
  config.hard = flags.get_bool("hard", "straight-through hard codes (0/1 forward, relaxed gradient)");
  config.label_codes = flags.get_bool("label-codes",
                                      "feed the decoder the attribute labels instead of sampled codes "
                                      "(a baseline)");
  config.rec_block =
      static_cast<int>(flags.get_int("rec-block", config.rec_block, "critic block of the reconstruction features"));
  config.seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of weights, data order and noise"));
  config.device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  const MatmulPrecision precision = declare_precision_flag(flags);
  TrainingLoopOptions loop = declare_loop_flags(flags, "train_cdvae", 5000);
  const int64_t threads = flags.get_int("threads", max_threads(), "CPU threads");
  const std::string out = flags.get("out", "runs/train_cdvae", "run directory");
  flags.finish();
  check_loop_flags(loop);
  set_threads(static_cast<int>(threads));

  const ImageDataset data = read_training_images(data_choice, config.seed);
  CFGAN_CHECK(data.num_attributes() > 0, "--data ", data.source, ": no attribute labels (give --attributes FILE, ",
              "or put a CelebA-format list_attr.txt in the folder)");
  config.spec.image_size = data_choice.image_size;
  config.spec.channels = data.channels;
  config.spec.attributes = data.attribute_names;
  config.spec.prior = attribute_frequencies(data);
  RunDir run = resumed ? std::move(*resumed) : RunDir(out, false);
  run.write_config(flags.effective());

  CdvaeTrainer trainer(config, data);
  if (resuming) {
    const std::string checkpoint = *run.latest_checkpoint();
    trainer.load(checkpoint);
    std::printf("train_cdvae: resumed %s at step %ld\n", checkpoint.c_str(), static_cast<long>(trainer.steps_done()));
  }
  std::printf(
      "train_cdvae: %ld images (%s), %ldx%ldx%ld, %ld attribute codes + z %ld, critic %s, batch %ld, "
      "device %s (%s products), %ld threads, writing %s (started in %.2f s)\n",
      static_cast<long>(data.count), data.source.c_str(), static_cast<long>(data.channels),
      static_cast<long>(data.height), static_cast<long>(data.width), static_cast<long>(config.spec.num_attributes()),
      static_cast<long>(config.spec.z_dim), config.spec.discriminator.c_str(), static_cast<long>(config.batch),
      device_name(config.device), precision_name(precision), static_cast<long>(threads), run.path().c_str(),
      seconds_since(launched));
  std::fflush(stdout);

  trainer.describe(loop);
  const TrainingOutcome done = run_training_loop(trainer, run, loop);
  return report_outcome(done, run, "train_cdvae", "original | reconstruction | one column per attribute");
}

}  // namespace

int main(int argc, char** argv) { return run_app("train_cdvae", run, argc, argv); }
