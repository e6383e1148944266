// The image classifier whose penultimate layer is the embedding the GAN metrics are
// computed in (our stand-in for Inception: small enough to train in minutes on a CPU,
// and trained on the very data the GAN learns, so its features see what matters there).
//
//   conv 3x3 w   -> BN -> ReLU -> maxpool 2
//   conv 3x3 2w  -> BN -> ReLU -> maxpool 2
//   linear -> features (ReLU)   <- features(x), the embedding
//   linear -> classes           <- logits(x)
//
// With multi_label the head has one sigmoid output per attribute (train with
// bce_with_logits against (a + 1) / 2): the independent attribute judge of the
// counterfactual programs. taps(x) returns each block's output by name, for attribution maps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/io/safetensors.h"
#include "engine/nn/layers.h"
#include "models/linalg.h"

namespace cfgan {

struct ClassifierSpec {
  int64_t image_size = 28;   // 28, 32 or 64
  int64_t channels = 1;      // 1 or 3
  int64_t num_classes = 10;  // outputs: classes, or attribute heads when multi_label
  bool multi_label = false;
  int64_t width = 32;      // channels of the first conv; the second has twice as many
  int64_t features = 128;  // embedding dimensions

  std::string to_json() const;
  static ClassifierSpec from_json(const std::string& text);  // errors name the bad field
  void validate() const;
};

class Classifier : public Module {
 public:
  explicit Classifier(const ClassifierSpec& spec);
  // x (N, C, S, S) in [-1, 1] -> (N, features), after the ReLU.
  Tensor features(const Tensor& x);
  Tensor logits(const Tensor& x);                       // -> (N, classes)
  Tensor logits_from_features(const Tensor& features);  // the last layer alone
  // The outputs of "block1" (N, w, S/2, S/2), "block2" (N, 2w, S/4, S/4), "features" and
  // "logits", in that order, from one forward pass.
  std::vector<std::pair<std::string, Tensor>> taps(const Tensor& x);
  // The network split after a block ("block1" or "block2"): the block's output, and the
  // logits computed from such an output (Grad-CAM differentiates the second half alone).
  Tensor block_output(const Tensor& x, const std::string& block);
  Tensor logits_from_block(const std::string& block, const Tensor& map);
  Tensor forward(const Tensor& x) override { return logits(x); }
  const ClassifierSpec& spec() const { return spec_; }

 private:
  void check_input(const Tensor& x) const;
  size_t block_end(const std::string& block) const;  // body_ layers [0, end) make the block
  ClassifierSpec spec_;
  std::shared_ptr<Sequential> body_;  // conv blocks and the feature layer
  std::shared_ptr<Linear> head_;
};

// Checkpoint metadata keys: the spec (JSON), the class (or attribute head) names (JSON
// array) and the accuracy on the held-out split (the mean over heads when multi_label).
inline constexpr const char* kClassifierSpecKey = "classifier_spec";
inline constexpr const char* kClassNamesKey = "class_names";
inline constexpr const char* kTestAccuracyKey = "test_accuracy";

struct LoadedClassifier {
  std::shared_ptr<Classifier> model;     // in eval mode
  std::vector<std::string> class_names;  // or attribute head names
  double test_accuracy = 0;
  // The output index of `name` (a class, or a head when multi_label); errors list the names.
  int64_t output_index(const std::string& name, const std::string& context) const;
};
// Reads a train_classifier checkpoint; errors name the file and say what is missing.
LoadedClassifier load_classifier(const std::string& path);

// The classifier's view of a whole image set, in eval mode, `batch` images at a time.
struct ClassifierView {
  Matrix features;              // (N, features)
  Matrix logits;                // (N, classes)
  std::vector<int32_t> argmax;  // over all classes
};
ClassifierView embed(Classifier& model, const ImageDataset& images, int64_t batch = 256);

// `count` 8-bit images (count, C, H, W) as a tensor in [-1, 1], scaled as the DataLoader scales them.
Tensor pixels_to_tensor(const uint8_t* chw, int64_t count, int64_t channels, int64_t height, int64_t width);
// Images [begin, begin + count) of a data set as a (count, C, H, W) tensor in [-1, 1],
// scaled as the DataLoader scales them.
Tensor image_batch(const ImageDataset& data, int64_t begin, int64_t count);

}  // namespace cfgan
