// eval: GAN metrics in the embedding of a train_classifier model (no external network):
// Fréchet distance, KID, precision / recall (k = 3), density / coverage (k = 5) and the
// class histogram of the generated images. Prints a table; --out also writes JSON.
//
//   eval --classifier runs/classifier --generated runs/fmnist --out runs/fmnist/metrics.json
//   eval --classifier runs/classifier --generated runs/fmnist/generated   # PNGs from `sample`
//   eval --classifier runs/classifier --generated fashion-mnist:test      # real vs real: the floor
//
// Generated images are quantized to 8 bits as PNG files are, so a checkpoint scores the
// same as the sample folder written from it.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/data_flags.h"
#include "apps/common/flags.h"
#include "engine/data/dataset.h"
#include "engine/engine.h"
#include "engine/io/image.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/classifier.h"
#include "models/evaluation.h"
#include "models/gan.h"
#include "models/gan_trainer.h"
#include "models/metrics.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

std::string shape_text(int64_t c, int64_t h, int64_t w) { return cat(c, "x", h, "x", w); }

ImageDataset empty_set(const ClassifierSpec& spec, const std::string& source) {
  ImageDataset set;
  set.channels = spec.channels;
  set.height = set.width = spec.image_size;
  set.source = source;
  return set;
}

// --n images from a train_gan checkpoint; conditional models cycle through `classes`.
ImageDataset generate(const std::string& path, const ClassifierSpec& cspec, int64_t n,
                      const std::vector<int32_t>& classes, uint64_t seed, Device device) {
  const LoadedGenerator loaded = load_generator(path);
  const GanSpec& spec = loaded.spec;
  CFGAN_CHECK(spec.channels == cspec.channels && spec.image_size == cspec.image_size, "--generated ", path,
              ": the generator makes ", shape_text(spec.channels, spec.image_size, spec.image_size),
              " images, the classifier expects ", shape_text(cspec.channels, cspec.image_size, cspec.image_size));
  GanGenerator* g = loaded.model.get();
  g->to(device);
  return generate_images(*g, spec, n, classes, seed, device, path);
}

// Up to --n PNG files of a folder, in name order. grid.png and interpolation.png are the
// overviews `sample` writes next to its images, not samples.
ImageDataset read_folder(const std::string& dir, const ClassifierSpec& spec, int64_t n) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".png" && name != "grid.png" && name != "interpolation.png") {
      files.push_back(entry.path().string());
    }
  }
  CFGAN_CHECK(!files.empty(), "--generated ", dir, ": no .png images in the folder");
  std::sort(files.begin(), files.end());
  if (static_cast<int64_t>(files.size()) > n) files.resize(static_cast<size_t>(n));
  ImageDataset out = empty_set(spec, dir);
  for (const std::string& file : files) {
    const Image image = read_image(file);
    CFGAN_CHECK(image.channels == spec.channels && image.height == spec.image_size && image.width == spec.image_size,
                "--generated ", file, ": the image is ", shape_text(image.channels, image.height, image.width),
                ", the classifier expects ", shape_text(spec.channels, spec.image_size, spec.image_size));
    for (int64_t c = 0; c < image.channels; ++c) {  // HWC -> CHW
      for (int64_t p = 0; p < image.width * image.height; ++p)
        out.pixels.push_back(image.pixels[p * image.channels + c]);
    }
    ++out.count;
  }
  return out;
}

ImageDataset load_fashion_mnist_split(const std::string& split, const ClassifierSpec& spec, const std::string& flag) {
  CFGAN_CHECK(split == "train" || split == "test", flag, ": expected train or test, got '", split, "'");
  CFGAN_CHECK(spec.channels == 1, flag, ": Fashion-MNIST images have 1 channel, the classifier expects ",
              spec.channels);
  return load_fashion_mnist(kFashionMnistDir, split);
}

std::string join(const std::vector<int32_t>& v) {
  std::string s;
  for (int32_t x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

int run(int argc, char** argv) {
  Flags flags(argc, argv, "eval", "GAN metrics in the embedding of a train_classifier model");
  const std::string classifier_flag = flags.get("classifier", "", "train_classifier checkpoint or run directory");
  const std::string generated = flags.get(
      "generated", "", "train_gan checkpoint or run directory, a folder of PNGs, or fashion-mnist:train|test");
  const int64_t n = flags.get_int("n", 10000, "generated images to draw (folders: at most this many)");
  const DataChoice data = declare_data_flags(flags, 1000, false);  // the real images, at the classifier's size
  const std::string split = flags.get("split", "train", "split of the real images: train or test");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of noise, subsets and KID draws"));
  const int64_t batch = flags.get_int("batch", 256, "images per classifier batch");
  const Device device = parse_device(flags.get("device", "auto", "generator device: cpu, cuda or auto"));
  const int64_t threads = flags.get_int("threads", max_threads(), "CPU threads");
  const std::string out = flags.get("out", "", "also write the metrics to this JSON file");
  flags.finish();
  CFGAN_CHECK(!classifier_flag.empty(), "--classifier: a train_classifier checkpoint or run directory is required");
  CFGAN_CHECK(!generated.empty(), "--generated: a checkpoint, run directory, PNG folder or fashion-mnist:SPLIT is ",
              "required");
  CFGAN_CHECK(n >= 1 && batch >= 1, "--n and --batch must be >= 1");
  set_threads(static_cast<int>(threads));

  const std::string classifier_path = resolve_checkpoint(classifier_flag, "--classifier");
  const LoadedClassifier classifier = load_classifier(classifier_path);
  const ClassifierSpec& spec = classifier.model->spec();

  CFGAN_CHECK(split == "train" || split == "test", "--split: expected train or test, got '", split, "'");
  ImageDataset real = read_data(data, split, spec.image_size, spec.channels);
  CFGAN_CHECK(real.class_names == classifier.class_names, "--data ", real.source, ": its ", real.num_classes(),
              " classes are not the ", spec.num_classes, " the classifier was trained on (",
              nlohmann::json(classifier.class_names).dump(), ")");
  real = select_subset(real, data.classes, data.per_class, seed);
  const std::vector<int32_t> real_classes = present_classes(real);

  ImageDataset fake;
  const std::string prefix = "fashion-mnist:";
  if (generated.rfind(prefix, 0) == 0) {
    // Real images in the generated role: the best score a generator could get. The same
    // split and --seed as the real set select the very same images.
    CFGAN_CHECK(data.fashion_mnist(), "--generated ", generated, ": needs --data fashion-mnist, got --data ",
                data.data);
    const int64_t c = static_cast<int64_t>(real_classes.size());
    CFGAN_CHECK(n % c == 0, "--n ", n, ": real images as --generated are drawn evenly from the ", c,
                " classes, so --n must be a multiple of ", c);
    const ImageDataset all = load_fashion_mnist_split(generated.substr(prefix.size()), spec, "--generated");
    fake = resize_images(select_subset(all, real_classes, n / c, seed), spec.image_size);
  } else if (fs::is_directory(generated) && !fs::is_directory(fs::path(generated) / "checkpoints")) {
    fake = read_folder(generated, spec, n);
  } else {
    fake = generate(resolve_checkpoint(generated, "--generated"), spec, n, real_classes, seed, device);
  }
  std::printf("eval: %ld real images (%s, classes %s) vs %ld generated (%s)\n", static_cast<long>(real.count),
              real.source.c_str(), join(real_classes).c_str(), static_cast<long>(fake.count), fake.source.c_str());
  std::fflush(stdout);

  const GanScores scores = score_images(*classifier.model, real, fake, real_classes, seed, batch);
  const double fd = scores.fd, real_accuracy = scores.real_accuracy, outside_fraction = scores.outside_fraction;
  const KidResult& kid = scores.kid;
  const ManifoldMetrics& m = scores.manifold;
  const ClassHistogram& h = scores.histogram;
  const double embed_seconds = scores.embed_seconds, metric_seconds = scores.metric_seconds;

  nlohmann::json histogram = nlohmann::json::object();
  std::string histogram_text;
  for (size_t i = 0; i < h.classes.size(); ++i) {
    const std::string& name = classifier.class_names[h.classes[i]];
    histogram[name] = h.counts[i];
    histogram_text += cat(histogram_text.empty() ? "" : ", ", name, " ", h.counts[i]);
  }
  std::printf("  classifier  %s (test accuracy %.4f; %.4f on these real images)\n", classifier_path.c_str(),
              classifier.test_accuracy, real_accuracy);
  std::printf("  FD          %.4f\n", fd);
  std::printf("  KID         %.5f +- %.5f (%ld subsets of %ld)\n", kid.mean, kid.std, static_cast<long>(kid.subsets),
              static_cast<long>(kid.subset_size));
  std::printf("  precision   %.4f   recall   %.4f  (k = 3)\n", m.precision, m.recall);
  std::printf("  density     %.4f   coverage %.4f  (k = 5)\n", m.density, m.coverage);
  std::printf("  classes     %ld of %zu covered, %ld with at least half a fair share; KL(histogram || uniform) %.4f\n",
              static_cast<long>(h.covered), h.classes.size(), static_cast<long>(h.well_covered), h.kl_uniform);
  std::printf("  histogram   %s; outside the real classes: %.2f%%\n", histogram_text.c_str(), 100 * outside_fraction);
  std::printf("  time        embedding %.1f s, metrics %.1f s\n", embed_seconds, metric_seconds);

  if (!out.empty()) {
    const nlohmann::json j{{"classifier", classifier_path},
                           {"classifier_test_accuracy", classifier.test_accuracy},
                           {"generated", fake.source},
                           {"real", real.source},
                           {"real_classes", real_classes},
                           {"n_real", real.count},
                           {"n_generated", fake.count},
                           {"real_accuracy", real_accuracy},
                           {"fd", fd},
                           {"kid_mean", kid.mean},
                           {"kid_std", kid.std},
                           {"kid_subsets", kid.subsets},
                           {"kid_subset_size", kid.subset_size},
                           {"precision", m.precision},
                           {"recall", m.recall},
                           {"density", m.density},
                           {"coverage", m.coverage},
                           {"class_histogram", histogram},
                           {"classes_covered", h.covered},
                           {"classes_well_covered", h.well_covered},
                           {"kl_uniform", h.kl_uniform},
                           {"outside_fraction", outside_fraction}};
    std::ofstream file(out);
    file << j.dump(2) << "\n";
    CFGAN_CHECK(file, "--out ", out, ": cannot write");
    std::printf("  written to  %s\n", out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("eval", run, argc, argv); }
