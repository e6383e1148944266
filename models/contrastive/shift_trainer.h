// Training a shift predictor S with the generator G and the attribute classifier J frozen.
// Per step: one z0 ~ N(0, I), a batch z = z0 + spread * eps around it, targets t drawn uniformly
// from {-1, 0, +1}^K minus the all-zero vector, and
//   loss = BCE-with-logits(J(G(z + S(z, t)))_k, (t_k + 1) / 2) over the entries with t_k != 0
//        + faithfulness * mean_i ||S(z_i, t_i)||_2
// (the second term keeps edits small, so a counterfactual stays near its factual). Adam on S alone.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/optim/optimizer.h"
#include "engine/run/training_loop.h"
#include "models/contrastive/frozen_models.h"
#include "models/contrastive/shift_predictor.h"

namespace cfgan {

struct ShiftTrainConfig {
  ShiftSpec spec;
  int64_t batch = 8;
  float lr = 1e-4f, beta1 = 0.9f, beta2 = 0.999f;
  float faithfulness = 0.05f;  // weight of mean ||dw||_2
  float spread = 0.1f;         // z = z0 + spread * eps
  uint64_t seed = 1;
  Device device = Device::cpu;
};

struct ShiftStepStats {
  float loss = 0, bce = 0, shift_norm = 0;
  float hit_rate = 0;  // targeted entries (t_k != 0) the judge reads as asked
};

// One update of S from latent codes `z` (N, d) and targets `t` (N, K); `target_logits` maps
// latent codes to the judge's logits of the K targets (N, K) through the frozen networks.
// The exact step ShiftTrainer runs, exposed for the PyTorch fixture test and the bench.
ShiftStepStats shift_train_step(ShiftPredictor& shift, Optimizer& opt,
                                const std::function<Tensor(const Tensor& w)>& target_logits, const Tensor& z,
                                const Tensor& t, float faithfulness);

class ShiftTrainer : public TrainingJob {
 public:
  // `frozen` must outlive the trainer; its targets are config.spec.targets.
  ShiftTrainer(const ShiftTrainConfig& config, FrozenModels& frozen);
  StepScalars step() override;
  int64_t steps_done() const override { return steps_; }
  // S, Adam's moments, both noise positions and the step, with the paths of G and J in the metadata.
  void save(const std::string& path) override;
  void load(const std::string& path);  // errors name the file and what does not match
  // Rows of factual | one counterfactual per target, the target flipped from what J reads.
  void write_samples(const std::string& path) override;
  ShiftPredictor& predictor() { return *shift_; }

  static void describe(TrainingLoopOptions& opts);

 private:
  ShiftTrainConfig config_;
  FrozenModels& frozen_;
  Generator noise_, dropout_noise_;
  std::shared_ptr<ShiftPredictor> shift_;
  std::unique_ptr<Adam> opt_;
  Tensor shown_;
  int64_t steps_ = 0;
};

// A train_shift checkpoint read back for use: S in eval mode, and the paths of its frozen models.
struct LoadedShift {
  std::unique_ptr<Generator> dropout_noise;  // S's dropout stream (unused in eval mode, but S holds it)
  std::shared_ptr<ShiftPredictor> predictor;
  std::string generator_path, judge_path;
};
LoadedShift load_shift(const std::string& path, Device device);

}  // namespace cfgan
