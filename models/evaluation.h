// Scoring a generator: its samples quantized as PNG files hold them, embedded by the
// classifier and compared with real images by every metric of models/metrics.h.
// Shared by apps/eval and apps/study.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "models/classifier.h"
#include "models/gan.h"
#include "models/metrics.h"

namespace cfgan {

// n images from `g` (in eval mode, no gradients); conditional models cycle through
// `classes`. Pixels are rounded to 8 bits, so a generator and the PNG folder written
// from it score the same.
ImageDataset generate_images(GanGenerator& g, const GanSpec& spec, int64_t n, const std::vector<int32_t>& classes,
                             uint64_t seed, Device device, const std::string& source);

struct GanScores {
  double fd = 0;
  KidResult kid;
  ManifoldMetrics manifold;
  ClassHistogram histogram;      // over the real classes
  double real_accuracy = 0;      // the classifier on the real images
  double outside_fraction = 0;   // generated images whose top class is not a real class
  double embed_seconds = 0, metric_seconds = 0;
};

// `real_classes`: the classes the real images hold (sorted). KID draws with `seed`.
GanScores score_images(Classifier& classifier, const ImageDataset& real, const ImageDataset& fake,
                       const std::vector<int32_t>& real_classes, uint64_t seed, int64_t batch = 256);

// The sorted distinct labels of a data set.
std::vector<int32_t> present_classes(const ImageDataset& data);

}  // namespace cfgan
