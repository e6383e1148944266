// train_classifier: trains the small CNN whose penultimate layer is the embedding of the
// GAN metrics (apps/eval), on the real training images, and measures it on held-out
// images: Fashion-MNIST's test split, or a seeded fraction of each class of a folder.
// Writes a run directory: config.json, metrics.jsonl, checkpoints/step_*.safetensors
// (weights + spec, class names and test accuracy in the metadata) and summary.txt.
//
//   train_classifier --epochs 2 --out runs/classifier
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/engine.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "models/classifier.h"

using namespace cfgan;

namespace {

struct Accuracy {
  double overall = 0;
  std::vector<double> per_class;  // NaN for classes without test images
};

Accuracy evaluate(Classifier& model, const ImageDataset& test) {
  const ClassifierView view = embed(model, test);
  std::vector<int64_t> right(static_cast<size_t>(test.num_classes()), 0), total(right);
  for (int64_t i = 0; i < test.count; ++i) {
    ++total[test.labels[i]];
    right[test.labels[i]] += view.argmax[i] == test.labels[i];
  }
  Accuracy a;
  for (size_t c = 0; c < total.size(); ++c) {
    a.overall += static_cast<double>(right[c]) / static_cast<double>(test.count);
    a.per_class.push_back(total[c] ? static_cast<double>(right[c]) / static_cast<double>(total[c]) : std::nan(""));
  }
  return a;
}

int run(int argc, char** argv) {
  const auto launched = std::chrono::steady_clock::now();
  Flags flags(argc, argv, "train_classifier", "train the embedding classifier of the GAN metrics");
  const std::string data_name = flags.get("data", "fashion-mnist", "fashion-mnist, or a folder root/<class>/*.png");
  const std::vector<int32_t> classes = flags.get_int_list("classes", "keep only these classes, e.g. 0,3,7");
  const int64_t per_class = flags.get_int("per-class", 0, "training images per class (0: all)");
  const bool folder = data_name != "fashion-mnist";
  const int64_t image_size = flags.get_int("image-size", folder ? 64 : 28, "28, 32 or 64");
  const int64_t channels = flags.get_int("channels", folder ? 3 : 1, "image channels for folders: 1 or 3");
  const double holdout = flags.get_double("holdout", 0.1, "fraction of each class held out (folders)");
  ClassifierSpec spec;
  spec.width = flags.get_int("width", 32, "channels of the first conv (the second has twice as many)");
  spec.features = flags.get_int("features", 128, "embedding dimensions");
  const int64_t epochs = flags.get_int("epochs", 2, "passes over the training images");
  const int64_t batch = flags.get_int("batch", 64, "batch size");
  const double lr = flags.get_double("lr", 1e-3, "Adam learning rate (cosine-decayed to 0)");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of weights, data order and split"));
  const int64_t threads = flags.get_int("threads", omp_get_max_threads(), "CPU threads");
  const std::string out = flags.get("out", "runs/train_classifier", "run directory");
  const int64_t log_every = flags.get_int("log-every", 50, "steps between metrics.jsonl lines");
  flags.finish();
  CFGAN_CHECK(epochs >= 1 && batch >= 1 && log_every >= 1 && threads >= 1,
              "--epochs, --batch, --log-every and --threads must be >= 1");
  CFGAN_CHECK(lr > 0, "--lr: must be > 0, got ", lr);
  CFGAN_CHECK(holdout > 0 && holdout < 1, "--holdout: expected a fraction in (0, 1), got ", holdout);
  spec.image_size = image_size;
  spec.channels = folder ? channels : 1;
  spec.validate();  // before minutes of loading and resizing
  omp_set_num_threads(static_cast<int>(threads));

  ImageDataset train, test;
  if (folder) {
    ImageDataset all = load_image_folder(data_name, image_size, channels);
    if (!classes.empty()) all = select_subset(all, classes, 0, seed);
    std::tie(train, test) = split_holdout(all, holdout, seed);
    if (per_class > 0) train = select_subset(train, {}, per_class, seed);
  } else {
    train = load_fashion_mnist(kFashionMnistDir, "train");
    test = load_fashion_mnist(kFashionMnistDir, "test");
    if (!classes.empty() || per_class > 0) train = select_subset(train, classes, per_class, seed);
    if (!classes.empty()) test = select_subset(test, classes, 0, seed);
  }
  train = resize_images(train, image_size);
  test = resize_images(test, image_size);
  spec.num_classes = train.num_classes();
  spec.validate();

  RunDir run_dir(out, false);
  run_dir.write_config(flags.effective());
  manual_seed(seed);
  Classifier model(spec);
  Adam opt(model.named_parameters(), AdamOptions{.lr = static_cast<float>(lr)});
  DataLoader loader(train, batch, seed);
  const int64_t steps_per_epoch = train.count / batch, steps = epochs * steps_per_epoch;  // the loader drops remainders
  std::printf("train_classifier: %ld training images (%s), %ld held out, %ldx%ldx%ld, %ld classes, %ld parameters\n",
              static_cast<long>(train.count), train.source.c_str(), static_cast<long>(test.count),
              static_cast<long>(spec.channels), static_cast<long>(image_size), static_cast<long>(image_size),
              static_cast<long>(spec.num_classes), static_cast<long>(model.parameter_count()));
  std::printf("train_classifier: %ld epochs x %ld steps of %ld, %ld threads, writing %s\n", static_cast<long>(epochs),
              static_cast<long>(steps_per_epoch), static_cast<long>(batch), static_cast<long>(threads), out.c_str());
  std::fflush(stdout);

  char fields[128] = "";
  double loss_avg = 0, acc_avg = 0;  // exponential moving averages, for a steady progress line
  Accuracy accuracy;
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    // One progress line per epoch, closed with the epoch's test accuracy.
    Progress progress(cat("epoch ", epoch, "/", epochs, " step"), steps_per_epoch);
    for (int64_t i = 1; i <= steps_per_epoch; ++i) {
      ++step;
      // Cosine decay to 0 over the run: a short run still ends with small, careful steps.
      opt.set_lr(static_cast<float>(0.5 * lr * (1 + std::cos(M_PI * static_cast<double>(step - 1) / steps))));
      const Batch b = loader.next();
      opt.zero_grad();
      const Tensor logits = model.logits(b.images);
      const Tensor loss = cross_entropy(logits, b.labels);
      loss.backward();
      opt.step();
      const std::vector<float> l = logits.to_host();
      int64_t right = 0;
      for (int64_t k = 0; k < batch; ++k) {
        const float* row = l.data() + k * spec.num_classes;
        right += std::max_element(row, row + spec.num_classes) - row == b.labels[k];
      }
      const double w = std::max(0.02, 1.0 / static_cast<double>(step));  // a plain mean at first
      loss_avg += w * (loss.item() - loss_avg);
      acc_avg += w * (static_cast<double>(right) / static_cast<double>(batch) - acc_avg);
      if (step % log_every == 0) {
        run_dir.append_metrics(
            nlohmann::json{{"step", step}, {"loss", loss.item()}, {"train_accuracy", acc_avg}}.dump());
      }
      std::snprintf(fields, sizeof fields, "loss %.3f  acc %.3f", loss_avg, acc_avg);
      progress.update(i, fields);
    }
    accuracy = evaluate(model, test);
    run_dir.append_metrics(nlohmann::json{
        {"step", step}, {"epoch", epoch}, {"test_accuracy", accuracy.overall}, {"seconds", seconds_since(launched)}}
                               .dump());
    std::snprintf(fields, sizeof fields, "loss %.3f  acc %.3f  test accuracy %.4f", loss_avg, acc_avg,
                  accuracy.overall);
    progress.finish(steps_per_epoch, fields);
  }

  const std::string checkpoint = run_dir.checkpoint_path(steps);
  save_safetensors(checkpoint, model.state_dict(),
                   {{kClassifierSpecKey, spec.to_json()},
                    {kClassNamesKey, nlohmann::json(train.class_names).dump()},
                    {kTestAccuracyKey, std::to_string(accuracy.overall)}});
  const double seconds = seconds_since(launched);
  std::ofstream summary(run_dir.file("summary.txt"));
  summary << "test accuracy: " << accuracy.overall << " on " << test.count << " images (" << test.source << ")\n";
  for (size_t c = 0; c < accuracy.per_class.size(); ++c) {
    if (!std::isnan(accuracy.per_class[c]))
      summary << "  " << train.class_names[c] << ": " << accuracy.per_class[c] << "\n";
  }
  summary << "steps: " << steps << " (" << epochs << " epochs of " << steps_per_epoch << ")\nseconds: " << seconds
          << "\ncheckpoint: " << checkpoint << "\n";
  std::printf("train_classifier: test accuracy %.4f on %ld images, %s in total\n  checkpoint: %s\n  summary:    %s\n",
              accuracy.overall, static_cast<long>(test.count), format_duration(seconds).c_str(), checkpoint.c_str(),
              run_dir.file("summary.txt").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("train_classifier", run, argc, argv); }
