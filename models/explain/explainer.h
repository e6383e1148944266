// Explaining a classifier's mistakes image by image: attribution maps of the original, several
// counterfactual images from a GAN (the classifier-driven search, and for a conditional GAN its
// own answer: the same z with the target class's code), the transitions from the misclassified
// image's inversion to each, and the scores that say how good they are.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/explain/attribution.h"
#include "models/explain/search.h"
#include "models/linalg.h"

namespace cfgan {

struct ExplainOptions {
  std::vector<std::string> methods = attribution_methods();
  AttributionOptions attribution;
  InversionOptions inversion;
  SearchOptions search;
  int64_t other_targets = 1;  // targets besides the true class: the next most likely classes
  int64_t transition_steps = 9;
  // Called as the long phases advance: ("inversion", step, steps) and ("search", step, steps).
  std::function<void(const std::string& phase, int64_t done, int64_t total)> progress;
};

// One way of finding counterfactuals ("search": the classifier-driven search; "conditional":
// the conditional generator's own answer), for one target class of one image.
struct CounterfactualSet {
  std::string way;
  int64_t target = 0;
  std::vector<Counterfactual> found;  // one per restart (the conditional answer has one)
  int64_t best = 0;                   // the valid one closest to the reconstruction, else the closest
  Transition transition;              // from the inversion to found[best]
  std::vector<float> difference;      // |found[best] - reconstruction| summed over channels, (H*W)
  // What the transition's flipping step changes, |T[f] - T[f-1]| (H*W); empty when it does not
  // flip after its first step. The part of the change that decides, without the rest of the path.
  std::vector<float> flip_difference;
};

struct ExplainedImage {
  int64_t index = 0;  // in the data set
  int32_t label = 0, predicted = 0;
  std::vector<float> probabilities;      // the classifier's, on the original
  Tensor original, reconstruction;       // (1, C, H, W)
  float reconstruction_error = 0;        // mean squared pixel error
  std::vector<std::vector<float>> maps;  // per method of the options: magnitudes (H*W) for the predicted class
  std::vector<CounterfactualSet> counterfactuals;
};

// `images` (N, C, H, W) with their true `labels` and their indices in the data set.
std::vector<ExplainedImage> explain_images(GanGenerator& generator, Classifier& classifier, const Tensor& images,
                                           const std::vector<int32_t>& labels, const std::vector<int64_t>& indices,
                                           const ExplainOptions& options);

// The scores of one way of finding counterfactuals over every explained image.
struct WayScores {
  std::string way;
  int64_t searched = 0;    // (image, target) pairs
  double validity = 0;     // share of all counterfactuals (every restart) classified as their target
  double found_valid = 0;  // share of pairs with at least one valid counterfactual
  double l1_original = 0;  // mean |best - original| per pixel, over pairs
  double l1_reconstruction = 0;
  double feature_distance = 0;  // mean L2 distance of the classifier's features, best vs original
  double fd = 0;                // Frechet distance of the best counterfactuals to real images (classifier features)
  double flip_fraction = 0;     // mean transition step of the flip / (steps - 1), over flipping transitions
  int64_t flipped = 0;          // transitions whose decision flips
};
struct ExplainScores {
  std::vector<WayScores> ways;
  double fd_reconstructions = 0;  // the same distance for the reconstructions: what the GAN itself costs
  double mean_reconstruction_error = 0;
};
// `real_features`: the classifier's features of the real images (embed(classifier, real).features).
ExplainScores score_explanations(const std::vector<ExplainedImage>& explained, Classifier& classifier,
                                 const Matrix& real_features);

}  // namespace cfgan
