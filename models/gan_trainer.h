// GAN training state and one training step, kept apart from the program that drives it
// (apps/train_gan) so tests can run the exact step and the exact resume.
#pragma once

#include <memory>
#include <string>

#include "engine/data/loader.h"
#include "engine/io/safetensors.h"
#include "engine/nn/ema.h"
#include "engine/optim/optimizer.h"
#include "engine/run/training_loop.h"
#include "models/gan.h"
#include "models/gan_loss.h"

namespace cfgan {

// The information regularizers in G's loss (models/regularizers.h):
//   L_G = adversarial + er_weight (ER(f_G) + ER(f_D)) + ur_weight (UR(f_G) + UR(f_D)),
// f_G a generator feature map, f_D a discriminator feature map of the generated batch.
// The f_D terms reach G through D; D's parameters are not updated by them.
struct GanRegularization {
  float ur_weight = 0.0f, er_weight = 0.0f;  // 0: off; the usual weights: kUrWeight, kErWeight
  int g_block = -1, d_block = -1;            // feature blocks; -1: the models' defaults
  bool enabled() const { return ur_weight > 0.0f || er_weight > 0.0f; }
};

// The R1 penalty on D (models/gan_loss.h r1_penalty), applied as StyleGAN2 does:
// every == 1: added to D's loss in every D step; every == N > 1 (lazy regularization):
// after every N-th D step's update (the first one included) a D update of its own on the
// penalty scaled by N, with D's Adam at lr * c, beta1^c, beta2^c, c = N / (N + 1), so that
// its learning rate and momentum span the same number of real batches as without the
// extra updates.
struct R1Regularization {
  float gamma = 0.0f;  // 0: off
  int64_t every = 16;  // D steps per penalty
  bool enabled() const { return gamma > 0.0f; }
  bool due(int64_t d_step) const { return enabled() && d_step % every == 0; }
  // D's Adam settings under this regularization (unchanged unless lazy).
  AdamOptions adjust(AdamOptions d) const;
};

struct GanTrainConfig {
  GanSpec spec;
  GanLoss loss = GanLoss::bce;
  int64_t batch = 64;
  float lr_g = 2e-4f, lr_d = 2e-4f;
  float beta1 = 0.5f, beta2 = 0.999f;
  float ema_decay = 0.999f;  // 0: no EMA generator
  GanRegularization reg;
  R1Regularization r1;
  uint64_t seed = 1;
  Device device = Device::cpu;
};

struct GanStepStats {
  float d_loss = 0, g_loss = 0;  // g_loss is the adversarial part alone
  float d_real = 0, d_fake = 0;  // mean sigmoid(D) on the real and the generated batch
  // With regularization: UR and ER of the G and D features, and ER's unbounded
  // -mean log |f| term on its own.
  float ur_g = 0, ur_d = 0, er_g = 0, er_d = 0, log_norm_g = 0, log_norm_d = 0;
  // With R1 due in this step: the penalty (gamma / 2) mean ||grad_x D(x)||^2 on the real
  // batch, before the lazy scaling by the interval.
  bool r1_applied = false;
  float r1 = 0;
};

// One D update (on `real` and G(z)), the R1 work due at D step `d_step`, then one G
// update; `labels` are empty for unconditional models. The exact step GanTrainer runs,
// exposed for tests.
GanStepStats gan_train_step(GanGenerator& g, GanDiscriminator& d, Optimizer& opt_g, Optimizer& opt_d, GanLoss loss,
                            const Tensor& real, const Tensor& z, const std::vector<int32_t>& labels,
                            const GanRegularization& reg = {}, const R1Regularization& r1 = {}, int64_t d_step = 0);

// The lazy R1 update of D: the penalty on `real`, times the interval when lazy, then one
// step of opt_d (which should hold r1.adjust's settings). Returns the penalty, unscaled.
float r1_update(GanDiscriminator& d, Optimizer& opt_d, const Tensor& real, const std::vector<int32_t>& labels,
                const R1Regularization& r1);

class GanTrainer {
 public:
  GanTrainer(const GanTrainConfig& config, const ImageDataset& data);

  // One D update on a real and a generated batch, then one G update.
  GanStepStats step();
  int64_t steps_done() const { return steps_; }
  float last_r1() const { return last_r1_; }

  // Images from the generator the samples are shown with (the EMA one when enabled),
  // in eval mode, for a fixed noise batch of the caller's.
  Tensor sample(const Tensor& z, const std::vector<int32_t>& labels);

  // Everything --resume needs: weights, buffers, EMA, optimizer moments, data position,
  // noise stream position, step. Written atomically.
  void save(const std::string& path) const;
  void load(const std::string& path);  // errors name the file and what does not match

  const GanTrainConfig& config() const { return config_; }
  GanGenerator& generator() { return *g_; }
  // The generator samples come from: the EMA one when kept, else the live one.
  GanGenerator& sampling_generator() { return g_ema_ ? *g_ema_ : *g_; }
  GanDiscriminator& discriminator() { return *d_; }

 private:
  GanTrainConfig config_;
  std::shared_ptr<GanGenerator> g_, g_ema_;
  std::shared_ptr<GanDiscriminator> d_;
  std::unique_ptr<Adam> opt_g_, opt_d_;
  std::unique_ptr<Ema> ema_;
  DataLoader loader_;
  Generator noise_;
  int64_t steps_ = 0;
  float last_r1_ = 0;  // the penalty at the latest step that applied it (logged every step)
};

// A GanTrainer as run_training_loop drives it: the step's statistics by name, and sample
// grids of a fixed noise batch (`z`, `labels` for conditional models).
class GanTrainingJob : public TrainingJob {
 public:
  GanTrainingJob(GanTrainer& trainer, Tensor z, std::vector<int32_t> labels)
      : trainer_(trainer), z_(std::move(z)), labels_(std::move(labels)) {}
  StepScalars step() override;
  int64_t steps_done() const override { return trainer_.steps_done(); }
  void save(const std::string& path) override { trainer_.save(path); }
  void write_samples(const std::string& path) override;
  // The loop's stops, progress fields and plotted curves for a GAN.
  static void describe(TrainingLoopOptions& opts);

 private:
  GanTrainer& trainer_;
  Tensor z_;
  std::vector<int32_t> labels_;
};

// The metadata key holding the GanSpec JSON in a checkpoint, and the prefix of the
// weights to sample from ("G_ema." when the run kept an EMA, else "G.").
inline constexpr const char* kSpecKey = "gan_spec";
std::string sampling_prefix(const Metadata& metadata);

// The generator samples come from, read from a train_gan checkpoint, in eval mode; errors name
// the file and what is missing.
struct LoadedGenerator {
  GanSpec spec;
  std::shared_ptr<GanGenerator> model;
};
LoadedGenerator load_generator(const std::string& path);

}  // namespace cfgan
