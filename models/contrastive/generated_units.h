// The Monte-Carlo side of the contrastive explanation: n units drawn from the generator's
// latent space, each decoded factually and once per target attribute X with X set to the
// opposite of what the judge reads (t_X = -x, the other targets 0 for the total effect or their
// factual readings for the direct one), every image read by the judge and by the classifier
// under explanation.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "models/contrastive/estimators.h"
#include "models/contrastive/frozen_models.h"
#include "models/contrastive/shift_predictor.h"
#include "models/world/scm.h"

namespace cfgan {

// A classifier's decision on images (N, C, S, S) in [-1, 1]: 1 = o.
using DecideImages = std::function<std::vector<uint8_t>(const Tensor& images)>;
// argmax == output for a softmax classifier, logit >= 0 for an attribute head.
DecideImages decide_images(Classifier& model, int64_t output);

struct GeneratedUnits {
  int64_t count = 0, k = 0;
  std::vector<int8_t> factual;    // (count, k): the judge's reading of each factual decode
  std::vector<uint8_t> decision;  // (count): the decision on each factual decode
  // Per target X, per unit: the decision on the counterfactual, whether the judge reads X as
  // asked there (the edit took), and whether every other target reads as on the factual.
  std::vector<std::vector<uint8_t>> flipped_decision, took, others_kept;
  // (k, k): the units whose reading of target j changed when target x was flipped, row x; the
  // diagonal is how often the edit took. Off the diagonal: the edit's side effects, which a
  // do(X) moves only along the world's edges out of X.
  std::vector<int64_t> changed;

  // The units as counterfactual pairs for target `x`, and as an observational table (factual only).
  std::vector<ContrastiveUnit> pairs(int64_t x) const;
  ObservationalTable table() const;
};

// `count` units from seed `seed`, `batch` at a time; S in eval mode.
GeneratedUnits generate_units(ShiftPredictor& shift, FrozenModels& frozen, const DecideImages& decide, int64_t count,
                              Effect effect, uint64_t seed, int64_t batch = 256);

}  // namespace cfgan
