#include "models/classifier.h"

#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {

std::string ClassifierSpec::to_json() const {
  return nlohmann::json{{"image_size", image_size}, {"channels", channels}, {"num_classes", num_classes},
                        {"width", width},           {"features", features}, {"multi_label", multi_label}}
      .dump();
}

ClassifierSpec ClassifierSpec::from_json(const std::string& text) {
  ClassifierSpec spec;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    spec.image_size = j.at("image_size").get<int64_t>();
    spec.channels = j.at("channels").get<int64_t>();
    spec.num_classes = j.at("num_classes").get<int64_t>();
    spec.width = j.at("width").get<int64_t>();
    spec.features = j.at("features").get<int64_t>();
    spec.multi_label = j.value("multi_label", false);  // absent in checkpoints from before attribute heads
  } catch (const nlohmann::json::exception& e) {
    fail("classifier description is invalid: ", e.what(), " in ", text);
  }
  spec.validate();
  return spec;
}

void ClassifierSpec::validate() const {
  CFGAN_CHECK(image_size == 28 || image_size == 32 || image_size == 64, "--image-size: expected 28, 32 or 64, got ",
              image_size);
  CFGAN_CHECK(channels == 1 || channels == 3, "image channels: expected 1 or 3, got ", channels);
  CFGAN_CHECK(num_classes >= (multi_label ? 1 : 2),
              multi_label ? "an attribute classifier needs at least 1 attribute, got "
                          : "a classifier needs at least 2 classes, got ",
              num_classes);
  CFGAN_CHECK(width >= 1 && features >= 1, "--width and --features must be >= 1, got ", width, " and ", features);
}

Classifier::Classifier(const ClassifierSpec& spec) : spec_(spec), body_(std::make_shared<Sequential>()) {
  spec.validate();
  const int64_t w = spec.width, pooled = spec.image_size / 4;  // two 2x2 pools; 28 -> 7, 32 -> 8, 64 -> 16
  const Conv2dOptions same{.stride = 1, .padding = 1};
  // The convs have no bias: the batch norm after each one has its own shift.
  body_->add(std::make_shared<Conv2d>(spec.channels, w, 3, same, false));
  body_->add(std::make_shared<BatchNorm2d>(w));
  body_->add(ReLU());
  body_->add(std::make_shared<Lambda>([](const Tensor& x) { return max_pool2d(x, 2); }));
  body_->add(std::make_shared<Conv2d>(w, 2 * w, 3, same, false));
  body_->add(std::make_shared<BatchNorm2d>(2 * w));
  body_->add(ReLU());
  body_->add(std::make_shared<Lambda>([](const Tensor& x) { return max_pool2d(x, 2); }));
  body_->add(Flatten());
  body_->add(std::make_shared<Linear>(2 * w * pooled * pooled, spec.features));
  body_->add(ReLU());
  head_ = std::make_shared<Linear>(spec.features, spec.num_classes);
  register_module("body", body_);
  register_module("head", head_);
}

void Classifier::check_input(const Tensor& x) const {
  CFGAN_CHECK(
      x.ndim() == 4 && x.dim(1) == spec_.channels && x.dim(2) == spec_.image_size && x.dim(3) == spec_.image_size,
      "classifier: expected images (N, ", spec_.channels, ", ", spec_.image_size, ", ", spec_.image_size, "), got ",
      x.shape().str());
}

Tensor Classifier::features(const Tensor& x) {
  check_input(x);
  return body_->forward(x);
}

Tensor Classifier::logits(const Tensor& x) { return head_->forward(features(x)); }

Tensor Classifier::logits_from_features(const Tensor& f) { return head_->forward(f); }

// body_: conv, BN, ReLU, pool (block1), conv, BN, ReLU, pool (block2), flatten, linear, ReLU (features).
size_t Classifier::block_end(const std::string& block) const {
  if (block == "block1") return 4;
  if (block == "block2") return 8;
  fail("classifier: no block '", block, "' (blocks: block1, block2)");
}

std::vector<std::pair<std::string, Tensor>> Classifier::taps(const Tensor& x) {
  check_input(x);
  std::vector<std::pair<std::string, Tensor>> out;
  Tensor h = x;
  for (size_t i = 0; i < body_->size(); ++i) {
    h = (*body_)[i].forward(h);
    if (i + 1 == block_end("block1")) out.emplace_back("block1", h);
    if (i + 1 == block_end("block2")) out.emplace_back("block2", h);
  }
  out.emplace_back("features", h);
  out.emplace_back("logits", head_->forward(h));
  return out;
}

Tensor Classifier::block_output(const Tensor& x, const std::string& block) {
  check_input(x);
  Tensor h = x;
  for (size_t i = 0; i < block_end(block); ++i) h = (*body_)[i].forward(h);
  return h;
}

Tensor Classifier::logits_from_block(const std::string& block, const Tensor& map) {
  Tensor h = map;
  for (size_t i = block_end(block); i < body_->size(); ++i) h = (*body_)[i].forward(h);
  return head_->forward(h);
}

int64_t LoadedClassifier::output_index(const std::string& name, const std::string& context) const {
  std::string known;
  for (size_t i = 0; i < class_names.size(); ++i) {
    if (class_names[i] == name) return static_cast<int64_t>(i);
    known += (i ? ", " : "") + class_names[i];
  }
  fail(context, ": '", name, "' is not an output of the classifier (",
       model->spec().multi_label ? "attributes" : "classes", ": ", known, ")");
}

LoadedClassifier load_classifier(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  auto field = [&](const char* key) -> const std::string& {
    auto it = file.metadata.find(key);
    CFGAN_CHECK(it != file.metadata.end(), path, ": not a train_classifier checkpoint (metadata lacks '", key, "')");
    return it->second;
  };
  LoadedClassifier out;
  const ClassifierSpec spec = ClassifierSpec::from_json(field(kClassifierSpecKey));
  try {
    out.class_names = nlohmann::json::parse(field(kClassNamesKey)).get<std::vector<std::string>>();
    out.test_accuracy = std::stod(field(kTestAccuracyKey));
  } catch (const std::exception& e) {
    fail(path, ": unreadable class names or accuracy in the metadata (", e.what(), ")");
  }
  CFGAN_CHECK(static_cast<int64_t>(out.class_names.size()) == spec.num_classes, path, ": ", out.class_names.size(),
              " class names for ", spec.num_classes, " classes");
  out.model = std::make_shared<Classifier>(spec);
  out.model->load_state_dict(file.tensors);
  out.model->eval();
  return out;
}

Tensor pixels_to_tensor(const uint8_t* chw, int64_t count, int64_t channels, int64_t height, int64_t width) {
  std::vector<float> values(static_cast<size_t>(count * channels * height * width));
  for (size_t k = 0; k < values.size(); ++k) values[k] = static_cast<float>(chw[k]) * (2.0f / 255.0f) - 1.0f;
  return Tensor::from_host({count, channels, height, width}, values);
}

Tensor image_batch(const ImageDataset& data, int64_t begin, int64_t count) {
  return pixels_to_tensor(data.pixels.data() + begin * data.image_bytes(), count, data.channels, data.height,
                          data.width);
}

ClassifierView embed(Classifier& model, const ImageDataset& images, int64_t batch) {
  const ClassifierSpec& spec = model.spec();
  CFGAN_CHECK(images.channels == spec.channels && images.height == spec.image_size && images.width == spec.image_size,
              images.source, ": images are ", images.channels, "x", images.height, "x", images.width,
              ", the classifier expects ", spec.channels, "x", spec.image_size, "x", spec.image_size);
  CFGAN_CHECK(images.count > 0, images.source, ": no images to embed");
  NoGrad no_grad;
  const bool was_training = model.is_training();
  model.eval();
  ClassifierView out{Matrix(images.count, spec.features), Matrix(images.count, spec.num_classes), {}};
  for (int64_t begin = 0; begin < images.count; begin += batch) {
    const int64_t count = std::min(batch, images.count - begin);
    const Tensor f = model.features(image_batch(images, begin, count));
    const std::vector<float> fv = f.to_host(), lv = model.logits_from_features(f).to_host();
    std::copy(fv.begin(), fv.end(), out.features.values.begin() + begin * spec.features);
    std::copy(lv.begin(), lv.end(), out.logits.values.begin() + begin * spec.num_classes);
  }
  for (int64_t i = 0; i < images.count; ++i) {
    const double* row = out.logits.row(i);
    out.argmax.push_back(static_cast<int32_t>(std::max_element(row, row + spec.num_classes) - row));
  }
  model.train(was_training);
  return out;
}

}  // namespace cfgan
