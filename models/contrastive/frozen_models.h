// The two networks a shift predictor works with and never changes: a train_gan generator (its
// sampling weights: the EMA ones when the run kept them) and a multi-label attribute classifier
// whose heads read what a decode shows. Both are loaded in eval mode with gradients off for
// their own weights; gradients still flow through them to the latent code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/classifier.h"
#include "models/contrastive/shift_predictor.h"
#include "models/gan.h"
#include "models/world/scm.h"

namespace cfgan {

struct FrozenModels {
  std::string generator_path, judge_path;
  GanSpec gan;
  Device device = Device::cpu;  // where both live
  std::shared_ptr<GanGenerator> generator;
  LoadedClassifier judge;
  std::vector<int32_t> heads;  // the judge's output index of each target, in the targets' order

  Tensor decode(const Tensor& w) { return generator->generate(w, {}); }
  // images (N, C, S, S) -> the targets' logits (N, K).
  Tensor target_logits(const Tensor& images) { return index_select(judge.model->logits(images), 1, heads); }
  // The targets as the judge reads them: +1 where the logit is >= 0, else -1, (N, K) row-major.
  std::vector<int8_t> read_targets(const Tensor& images);
};

// Loads both; errors name the flag and the file: a conditional generator (S edits unconditional
// ones), a judge without attribute heads or without one of `targets`, a judge that reads other
// images than the generator makes.
FrozenModels load_frozen_models(const std::string& generator_path, const std::string& judge_path,
                                const std::vector<std::string>& targets, Device device);

// A shift predictor edits the latent space it was trained on: the generator's latent size must be S's.
void check_latent_size(const ShiftSpec& shift, const GanSpec& gan, const std::string& generator_path);

// t for flipping target `x` of units the judge read as `read` (n, K): t_x = the opposite reading,
// the other targets 0 for the total effect (don't care) or their readings for the direct one.
Tensor flip_targets(int64_t x, const std::vector<int8_t>& read, int64_t k, Effect effect);

// Per row of `w` (N, d): the factual decode, then for each target its flip_targets decode, as an
// (N * (1 + K), C, S, S) batch in row order: a grid with 1 + K columns.
Tensor flip_grid(ShiftPredictor& shift, FrozenModels& frozen, const Tensor& w, Effect effect = Effect::total);

}  // namespace cfgan
