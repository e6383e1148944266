// Counterfactual images from a GAN, driven by the classifier under explanation: invert the
// generator on an image (find the configuration it decodes to nearly that image), move the
// configuration until the classifier says another class while the image stays close, and
// walk the straight path between the two to see where the decision flips.
//
// A generator's configuration is z, joined to the class embedding for a conditional model
// (GanGenerator::configuration). The inversion moves all of it (starting from the image's class
// embedding), the counterfactual search z only, and transitions all of it, so the conditional
// model's own answer (the same z with the target class's embedding) has a path too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/optim/optimizer.h"
#include "models/classifier.h"
#include "models/gan.h"

namespace cfgan {

// Adam on the first columns of a batch of configurations (N, D) — z by default, or all of them —
// through the frozen generator, against per-row losses of the decoded images; the other columns
// (a class embedding) stay. The caller freezes the generator's and the loss's parameters, so
// backward fills the moving columns alone.
class LatentSearch {
 public:
  // images (N, C, H, W) and the moving columns (N, free) -> per-row losses (N)
  using Loss = std::function<Tensor(const Tensor& images, const Tensor& moving)>;
  // free_columns 0: z's (generator.z_dim()).
  LatentSearch(GanGenerator& generator, const Tensor& start, Loss loss, float lr, int64_t free_columns = 0);
  void step();  // one Adam step
  // `steps` Adam steps, calling on_step(step, steps) after each when it is set.
  void run(int64_t steps, const std::function<void(int64_t step, int64_t steps)>& on_step);
  Tensor configuration() const;  // (N, D), outside the graph

 private:
  GanGenerator& generator_;
  Tensor z_, rest_;  // rest_ undefined when the configuration is z alone
  Loss loss_;
  std::unique_ptr<Adam> adam_;
};

struct InversionOptions {
  int64_t steps = 400;
  int64_t restarts = 4;  // starting points per image; the best final loss is kept
  float lr = 0.05f;
  float feature_weight = 1.0f;  // weight of the classifier-feature MSE beside the pixel MSE
  float prior_weight = 1e-3f;   // keeps z where the generator was trained: mean z^2
  uint64_t seed = 1;
  std::function<void(int64_t step, int64_t steps)> on_step{};  // progress, after each step
};
struct Inversion {
  Tensor configuration;            // (N, D)
  Tensor images;                   // (N, C, H, W): G(configuration), the reconstruction
  std::vector<float> pixel_error;  // mean squared pixel error per image
};
// labels: the class each image's embedding starts from (conditional generators; else empty).
Inversion invert(GanGenerator& generator, Classifier& classifier, const Tensor& images,
                 const std::vector<int32_t>& labels, const InversionOptions& options);

struct SearchOptions {
  int64_t steps = 200;
  int64_t restarts = 3;        // restart 0 starts at the inversion, the others nearby
  float restart_noise = 0.5f;  // standard deviation of the others' offsets in z
  float lr = 0.05f;
  // Weight of the distance to the inversion beside the class margin: the mean |G(z) - reconstruction|
  // per pixel, plus latent_proximity x the mean (z - z_inversion)^2 — a change the generator makes
  // with a short step in z (a whole striped background) may be long in pixels.
  float proximity = 10.0f;
  float latent_proximity = 0.0f;
  float margin = 2.0f;  // the target's logit must beat every other by this much
  uint64_t seed = 1;
  std::function<void(int64_t step, int64_t steps)> on_step{};  // progress, after each step
};
struct Counterfactual {
  int64_t image = 0, target = 0, restart = 0;
  Tensor configuration;              // (1, D)
  Tensor picture;                    // (1, C, H, W)
  std::vector<float> probabilities;  // the classifier's, over its classes
  bool valid = false;                // the classifier's argmax is the target
  float l1 = 0;                      // mean |picture - reconstruction|
};
// For every image i and each class in targets[i], `restarts` counterfactuals, in that order.
std::vector<Counterfactual> search_counterfactuals(GanGenerator& generator, Classifier& classifier,
                                                   const Inversion& start,
                                                   const std::vector<std::vector<int64_t>>& targets,
                                                   const SearchOptions& options);

struct Transition {
  Tensor pictures;                                // (steps, C, H, W), first = G(from), last = G(to)
  std::vector<std::vector<float>> probabilities;  // per step, over the classes
  int64_t flip_step = -1;                         // first step whose argmax is `target`, -1 when none
};
// G along the straight line from configuration `from` to `to` (each (1, D)), in `steps` points.
Transition transition(GanGenerator& generator, Classifier& classifier, const Tensor& from, const Tensor& to,
                      int64_t steps, int64_t target);

// The classifier's softmax probabilities, row by row, in eval mode.
std::vector<std::vector<float>> class_probabilities(Classifier& classifier, const Tensor& images);

}  // namespace cfgan
