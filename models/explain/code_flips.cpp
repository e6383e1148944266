#include "models/explain/code_flips.h"

#include <limits>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "models/explain/maps.h"
#include "models/explain/search.h"

namespace cfgan {

CodeFlips flip_codes(CdvaeGan& model, Classifier& classifier, const Tensor& images,
                     const std::vector<int32_t>& labels) {
  const CdvaeSpec& spec = model.spec();
  const int64_t n = images.dim(0), pixels = images.dim(2) * images.dim(3);
  CFGAN_CHECK(static_cast<int64_t>(labels.size()) == n, "code flips: ", labels.size(), " labels for ", n, " images");
  CFGAN_CHECK(images.dim(1) == spec.channels && images.dim(2) == spec.image_size, "code flips: the CDVAE-GAN makes ",
              spec.channels, "x", spec.image_size, "x", spec.image_size, " images, got ", images.shape().str());
  NoGrad no_grad;
  CodeFlips out;
  out.attributes = spec.attributes;
  out.reconstructions = model.counterfactual(images, {});
  out.best.assign(static_cast<size_t>(n), -1);
  out.difference.resize(static_cast<size_t>(n));
  std::vector<float> best_l1(static_cast<size_t>(n), std::numeric_limits<float>::infinity());
  for (int k = 0; k < spec.num_attributes(); ++k) {
    const Tensor flipped = model.counterfactual(images, {k});
    const std::vector<std::vector<float>> p = class_probabilities(classifier, flipped);
    const std::vector<float> l1 = mean(abs(flipped - out.reconstructions), {1, 2, 3}).to_host();
    const std::vector<float> magnitudes = map_magnitudes(flipped - out.reconstructions);
    std::vector<float> p_true;
    std::vector<uint8_t> fixed_images;
    int64_t fixed = 0;
    for (int64_t i = 0; i < n; ++i) {
      p_true.push_back(p[i][labels[i]]);
      const bool fixes = std::max_element(p[i].begin(), p[i].end()) - p[i].begin() == labels[i];
      fixed += fixes;
      fixed_images.push_back(fixes);
      if (fixes && l1[i] < best_l1[i]) {
        best_l1[i] = l1[i];
        out.best[i] = k;
        out.difference[i].assign(magnitudes.begin() + i * pixels, magnitudes.begin() + (i + 1) * pixels);
      }
    }
    out.flipped.push_back(flipped);
    out.p_true.push_back(std::move(p_true));
    out.fixed.push_back(std::move(fixed_images));
    out.fixes.push_back(static_cast<double>(fixed) / static_cast<double>(n));
  }
  return out;
}

}  // namespace cfgan
