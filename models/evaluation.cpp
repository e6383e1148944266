#include "models/evaluation.h"

#include <algorithm>
#include <chrono>

#include "engine/autograd.h"
#include "engine/io/image.h"
#include "engine/ops.h"
#include "engine/run/progress.h"

namespace cfgan {

ImageDataset generate_images(GanGenerator& g, const GanSpec& spec, int64_t n, const std::vector<int32_t>& classes,
                             uint64_t seed, Device device, const std::string& source) {
  NoGrad no_grad;
  const bool was_training = g.is_training();
  g.eval();
  ImageDataset out;
  out.channels = spec.channels;
  out.height = out.width = spec.image_size;
  out.source = source;
  Generator noise(seed);
  for (int64_t first = 0; first < n; first += 64) {
    const int64_t count = std::min<int64_t>(64, n - first);
    std::vector<int32_t> labels;
    for (int64_t i = first; spec.num_classes > 0 && i < first + count; ++i) {
      labels.push_back(classes[i % classes.size()]);
    }
    const std::vector<float> v = g.generate(Tensor::randn({count, spec.z_dim}, noise, device), labels).to_host();
    for (float x : v) out.pixels.push_back(to_byte(x));
    out.count += count;
  }
  g.train(was_training);
  return out;
}

GanScores score_images(Classifier& classifier, const ImageDataset& real, const ImageDataset& fake,
                       const std::vector<int32_t>& real_classes, uint64_t seed, int64_t batch) {
  GanScores s;
  const auto started = std::chrono::steady_clock::now();
  const ClassifierView real_view = embed(classifier, real, batch);
  const ClassifierView fake_view = embed(classifier, fake, batch);
  int64_t real_right = 0, outside = 0;
  for (int64_t i = 0; i < real.count; ++i) real_right += real_view.argmax[i] == real.labels[i];
  // The histogram asks which of the real classes each image looks most like; images the
  // classifier puts in some other class are counted apart, as "outside".
  std::vector<int32_t> predicted;
  for (int64_t i = 0; i < fake.count; ++i) {
    const double* row = fake_view.logits.row(i);
    int32_t best = real_classes[0];
    for (int32_t c : real_classes) best = row[c] > row[best] ? c : best;
    predicted.push_back(best);
    outside += std::find(real_classes.begin(), real_classes.end(), fake_view.argmax[i]) == real_classes.end();
  }
  s.embed_seconds = seconds_since(started);
  s.fd = frechet_distance(real_view.features, fake_view.features);
  s.kid = kernel_inception_distance(real_view.features, fake_view.features, 100, 1000, seed);
  s.manifold = manifold_metrics(real_view.features, fake_view.features, 3, 5);
  s.histogram = class_histogram(predicted, real_classes);
  s.real_accuracy = static_cast<double>(real_right) / static_cast<double>(real.count);
  s.outside_fraction = static_cast<double>(outside) / static_cast<double>(fake.count);
  s.metric_seconds = seconds_since(started) - s.embed_seconds;
  return s;
}

std::vector<int32_t> present_classes(const ImageDataset& data) {
  std::vector<int32_t> classes(data.labels.begin(), data.labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  return classes;
}

}  // namespace cfgan
