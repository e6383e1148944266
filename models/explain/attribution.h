// Attribution maps: which input pixels a classifier's score for one output depends on.
// Free functions over any differentiable model, each returning maps the shape of its input
// (Grad-CAM: one channel), for a batch at once. The score of row i is logits[i, target[i]].
//
//   saliency              |d score / d x|
//   gradient_x_input      x * d score / d x
//   integrated_gradients  (x - b) * mean over the path b -> x of d score / d x  (Sundararajan et
//                         al., 2017): its maps sum to score(x) - score(b) up to the Riemann error
//   grad_cam              ReLU(sum_k alpha_k A_k), alpha_k the spatial mean of d score / d A_k,
//                         A a block's feature map (Selvaraju et al., 2017), upsampled bilinearly
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace cfgan {

class Classifier;

// images (N, C, H, W) -> logits (N, K)
using LogitsFn = std::function<Tensor(const Tensor& x)>;
// A network cut after a block: images -> the block's map, and the map -> logits.
struct BlockSplit {
  std::function<Tensor(const Tensor& x)> to_block;
  std::function<Tensor(const Tensor& map)> from_block;
};

// The scores logits[i, target[i]] and their gradient with respect to x.
struct ScoreGradient {
  Tensor grad;                // x's shape
  std::vector<float> scores;  // (N)
};
ScoreGradient score_gradient(const LogitsFn& model, const Tensor& x, const std::vector<int64_t>& target);

Tensor saliency(const LogitsFn& model, const Tensor& x, const std::vector<int64_t>& target);
Tensor gradient_x_input(const LogitsFn& model, const Tensor& x, const std::vector<int64_t>& target);
// `baseline` has x's shape or (1, C, H, W); the path is sampled at the midpoints of `steps` equal pieces.
Tensor integrated_gradients(const LogitsFn& model, const Tensor& x, const Tensor& baseline,
                            const std::vector<int64_t>& target, int64_t steps);
// -> (N, 1, H, W), H and W those of x.
Tensor grad_cam(const BlockSplit& model, const Tensor& x, const std::vector<int64_t>& target);

// (N, 1, h, w) -> (N, 1, H, W), sampling at pixel centres with edges clamped (align_corners off).
Tensor upsample_bilinear(const Tensor& maps, int64_t height, int64_t width);

// The methods by name, for a Classifier: "saliency", "gradient_x_input",
// "integrated_gradients", "grad_cam".
struct AttributionOptions {
  int64_t ig_steps = 32;
  float ig_baseline = -1.0f;  // the constant image IG starts from (-1: black, 0: mid-grey)
  std::string cam_block = "block2";
};
const std::vector<std::string>& attribution_methods();
Tensor attribute(const std::string& method, Classifier& model, const Tensor& x, const std::vector<int64_t>& target,
                 const AttributionOptions& options);

}  // namespace cfgan
