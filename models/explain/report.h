// The explainer's report: static HTML + PNG that any browser opens from disk, no server.
//   DIR/index.html        the scores, then one row per image, most confident mistake first
//   DIR/image_<k>.html    one page per image: original, reconstruction, attribution maps,
//                         counterfactuals of each way with their difference maps, transition
//                         strips with the probabilities under them and the flipping step's change
//   DIR/img/...           the pictures
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/explain/code_flips.h"
#include "models/explain/explainer.h"

namespace cfgan {

// What is known about an image's true cause (the causal world only): its mask, and the pointing
// score of each map by name — an attribution method's, or a way's difference map for the true
// class. Empty `mask`: unknown.
struct ImageCause {
  std::vector<uint8_t> mask;
  std::vector<std::pair<std::string, double>> pointing;
};

struct ReportInput {
  std::vector<ExplainedImage> images;  // in page order
  std::vector<std::string> methods;    // names of ExplainedImage::maps
  std::vector<std::string> class_names;
  std::vector<ImageCause> causes;  // per image, or empty
  ExplainScores scores;
  const CodeFlips* code_flips = nullptr;  // a CDVAE-GAN's flips of the same images, or none
  std::string title;
  int64_t scale = 4;  // pixels per image pixel in the pictures
};

// Writes the report; returns the path of index.html. Errors name the file that could not be written.
std::string write_explain_report(const std::string& dir, const ReportInput& input);

}  // namespace cfgan
