// How good a CDVAE-GAN's counterfactuals are, on the causal world where the true ones exist.
// An independent attribute judge (a train_classifier --target attributes checkpoint, never
// trained against the model) reads every image. Per flipped attribute k:
//   deception     the judge reads the flipped value of k on the counterfactual; over all
//                 units, and apart for the units flipped to on (k absent on the original) and
//                 to off, which can fail for different reasons (drawing a thing, erasing it)
//   preservation  the judge reads every other attribute as on the original, apart for k's
//                 descendants in the world's graph and for the rest; and, for the rest, as on
//                 the reconstruction (the flip's own side effects, without reconstruction error)
//   distance      to the world's true counterfactual of the same unit under do(k := flipped):
//                 pixel L1 (mean |difference|, pixels in [-1, 1]) and the judge-feature L2,
//                 against the direct effect (a code flip holds the other codes) and the total
//   the truth's   how often the judge reads the flipped value of k on the true direct
//   reading       counterfactual: the deception a perfect model would score with this judge
// Over all: the reconstructions' pixel L1, and the Fréchet distances of reconstructions and of
// counterfactuals to the real images in the judge's features, and those of the true direct and
// total counterfactuals: the first is the mark a perfect model would hit. A direct intervention
// holds the flipped attribute's children, so the pooled flips hold other attribute combinations
// than the world makes (more red objects on dark backgrounds): even the truth lies off the data.
// The total counterfactuals follow the world's mechanisms; their distance is the floor that
// pooling six flips of 1,000 units against those units leaves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/cdvae/model.h"
#include "models/classifier.h"
#include "models/world/scm.h"

namespace cfgan {

struct CdvaeAttributeScores {
  std::string attribute;
  double deception = 0, preserve_descendants = 0, preserve_others = 0;  // NaN: no such attribute
  double preserve_others_vs_reconstruction = 0;
  double l1_direct = 0, l1_total = 0, feature_direct = 0, feature_total = 0;
  double deception_to_on = 0, deception_to_off = 0;  // NaN: no unit flipped that way
  int64_t units_to_on = 0;
  double judge_reads_truth = 0;
};

struct CdvaeScores {
  int64_t units = 0;
  double reconstruction_l1 = 0, fd_reconstructions = 0, fd_counterfactuals = 0, fd_direct_truth = 0,
         fd_total_truth = 0;
  std::vector<CdvaeAttributeScores> attributes;
};

// Scores over `units` of the world `spec`; the model's attributes must all be judge heads.
CdvaeScores score_cdvae(CdvaeGan& model, Classifier& judge, const std::vector<std::string>& judge_heads,
                        const WorldSpec& spec, const WorldUnits& units, int64_t batch = 128);

}  // namespace cfgan
