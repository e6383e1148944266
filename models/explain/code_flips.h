// The third way to a counterfactual: a CDVAE-GAN's attribute codes. Encode the misclassified
// image, flip one attribute's code, decode, and ask the classifier again; a flip after which it
// says the true class names an attribute that, changed alone, undoes the mistake.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/cdvae/model.h"
#include "models/classifier.h"

namespace cfgan {

struct CodeFlips {
  std::vector<std::string> attributes;      // the model's codes
  Tensor reconstructions;                   // (N, C, S, S): no code flipped
  std::vector<Tensor> flipped;              // per attribute: (N, C, S, S) with that code flipped
  std::vector<std::vector<float>> p_true;   // [attribute][image]: the classifier's p(true class)
  std::vector<std::vector<uint8_t>> fixed;  // [attribute][image]: classified as the true class
  std::vector<double> fixes;                // per attribute: share of images classified as the true class
  // Per image: the fixing flip closest to the reconstruction (-1: none fixes it) and its
  // difference map |flipped - reconstruction| summed over channels (H*W; empty when none).
  std::vector<int> best;
  std::vector<std::vector<float>> difference;
};

// `images` (N, C, S, S) in [-1, 1], `labels` their true classes.
CodeFlips flip_codes(CdvaeGan& model, Classifier& classifier, const Tensor& images, const std::vector<int32_t>& labels);

}  // namespace cfgan
