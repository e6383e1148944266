// train_classifier: trains the small CNN whose penultimate layer is the embedding of the
// GAN metrics (apps/eval), on the real training images, and measures it on held-out
// images: Fashion-MNIST's test split, or a seeded fraction of each class of a folder.
// Writes a run directory: config.json, metrics.jsonl, checkpoints/step_*.safetensors
// (weights + spec, class names and test accuracy in the metadata) and summary.txt.
// With --target attributes (the default when --attributes is given) it trains one sigmoid
// head per attribute instead: the independent judge of the counterfactual programs.
//
//   train_classifier --epochs 2 --out runs/classifier
//   train_classifier --data worlds/train --attributes worlds/train/list_attr.txt --image-size 32 --out runs/judge
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/data_flags.h"
#include "apps/common/flags.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/engine.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/classifier.h"
#include "models/metrics.h"

using namespace cfgan;

namespace {

// Held-out accuracy, overall and per output: per class (NaN for a class without test
// images), or per attribute head (decision p >= 0.5) with its ROC AUC.
struct Accuracy {
  double overall = 0;
  std::vector<double> per_output, auc;
};

Accuracy evaluate(Classifier& model, const ImageDataset& test) {
  const ClassifierView view = embed(model, test);
  Accuracy a;
  if (model.spec().multi_label) {
    const int64_t k_count = test.num_attributes();
    for (int64_t k = 0; k < k_count; ++k) {
      std::vector<double> scores(static_cast<size_t>(test.count));
      std::vector<bool> positive(scores.size());
      int64_t right = 0;
      for (int64_t i = 0; i < test.count; ++i) {
        scores[i] = view.logits(i, k);
        positive[i] = test.attributes[i * k_count + k] > 0;
        right += (scores[i] >= 0) == positive[i];
      }
      a.per_output.push_back(static_cast<double>(right) / static_cast<double>(test.count));
      a.auc.push_back(roc_auc(scores, positive));
      a.overall += a.per_output.back() / static_cast<double>(k_count);
    }
    return a;
  }
  std::vector<int64_t> right(static_cast<size_t>(test.num_classes()), 0), total(right);
  for (int64_t i = 0; i < test.count; ++i) {
    ++total[test.labels[i]];
    right[test.labels[i]] += view.argmax[i] == test.labels[i];
  }
  for (size_t c = 0; c < total.size(); ++c) {
    a.overall += static_cast<double>(right[c]) / static_cast<double>(test.count);
    a.per_output.push_back(total[c] ? static_cast<double>(right[c]) / static_cast<double>(total[c]) : std::nan(""));
  }
  return a;
}

// The batch's loss and how many of its decisions are right (every head counts for attributes).
std::pair<Tensor, int64_t> batch_loss(const Tensor& logits, const Batch& b, bool multi_label) {
  const std::vector<float> l = logits.to_host();
  const int64_t n = logits.dim(0), outputs = logits.dim(1);
  int64_t right = 0;
  if (multi_label) {
    const std::vector<float> t = b.attributes.to_host();
    for (size_t i = 0; i < l.size(); ++i) right += (l[i] >= 0) == (t[i] > 0.5f);
    return {bce_with_logits(logits, b.attributes), right};
  }
  for (int64_t k = 0; k < n; ++k) {
    const float* row = l.data() + k * outputs;
    right += std::max_element(row, row + outputs) - row == b.labels[k];
  }
  return {cross_entropy(logits, b.labels), right};
}

int run(int argc, char** argv) {
  const auto launched = std::chrono::steady_clock::now();
  Flags flags(argc, argv, "train_classifier", "train the embedding classifier of the GAN metrics");
  const DataChoice data = declare_data_flags(flags);
  const double holdout = flags.get_double("holdout", 0.1, "fraction of each class held out (folders)");
  const std::string target = flags.get("target", data.attributes_given || data.celeba() ? "attributes" : "classes",
                                       "classes (softmax over the class folders) or attributes (a sigmoid head per "
                                       "attribute of the attribute file: the judge of the counterfactual programs)");
  ClassifierSpec spec;
  spec.width = flags.get_int("width", 32, "channels of the first conv (the second has twice as many)");
  spec.features = flags.get_int("features", 128, "embedding dimensions");
  const int64_t epochs = flags.get_int("epochs", 2, "passes over the training images");
  const int64_t batch = flags.get_int("batch", 64, "batch size");
  const double lr = flags.get_double("lr", 1e-3, "Adam learning rate (cosine-decayed to 0)");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of weights, data order and split"));
  const int64_t threads = flags.get_int("threads", max_threads(), "CPU threads");
  const std::string out = flags.get("out", "runs/train_classifier", "run directory");
  const int64_t log_every = flags.get_int("log-every", 50, "steps between metrics.jsonl lines");
  flags.finish();
  CFGAN_CHECK(epochs >= 1 && batch >= 1 && log_every >= 1, "--epochs, --batch and --log-every must be >= 1");
  CFGAN_CHECK(target == "classes" || target == "attributes", "--target: expected classes or attributes, got '",
              target, "'");
  CFGAN_CHECK(lr > 0, "--lr: must be > 0, got ", lr);
  CFGAN_CHECK(holdout > 0 && holdout < 1, "--holdout: expected a fraction in (0, 1), got ", holdout);
  spec.image_size = data.image_size;
  spec.channels = data.channels;
  spec.multi_label = target == "attributes";
  spec.validate();  // before minutes of loading and resizing
  set_threads(static_cast<int>(threads));

  const auto [train, test] = read_train_test(data, holdout, seed);
  CFGAN_CHECK(!spec.multi_label || train.num_attributes() > 0, "--target attributes: ", train.source,
              " has no attribute file (give --attributes FILE, or put list_attr.txt in the folder)");
  spec.num_classes = spec.multi_label ? train.num_attributes() : train.num_classes();
  spec.validate();
  const std::vector<std::string>& output_names = spec.multi_label ? train.attribute_names : train.class_names;

  RunDir run_dir(out, false);
  run_dir.write_config(flags.effective());
  manual_seed(seed);
  Classifier model(spec);
  Adam opt(model.named_parameters(), AdamOptions{.lr = static_cast<float>(lr)});
  DataLoader loader(train, batch, seed);
  const int64_t steps_per_epoch = train.count / batch, steps = epochs * steps_per_epoch;  // the loader drops remainders
  std::printf("train_classifier: %ld training images (%s), %ld held out, %ldx%ldx%ld, %ld classes, %ld parameters\n",
              static_cast<long>(train.count), train.source.c_str(), static_cast<long>(test.count),
              static_cast<long>(spec.channels), static_cast<long>(spec.image_size), static_cast<long>(spec.image_size),
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
      const auto [loss, right] = batch_loss(model.logits(b.images), b, spec.multi_label);
      loss.backward();
      opt.step();
      const double w = std::max(0.02, 1.0 / static_cast<double>(step));  // a plain mean at first
      loss_avg += w * (loss.item() - loss_avg);
      const int64_t decisions = batch * (spec.multi_label ? spec.num_classes : 1);
      acc_avg += w * (static_cast<double>(right) / static_cast<double>(decisions) - acc_avg);
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
                    {kClassNamesKey, nlohmann::json(output_names).dump()},
                    {kTestAccuracyKey, std::to_string(accuracy.overall)}});
  const double seconds = seconds_since(launched);
  std::ofstream summary(run_dir.file("summary.txt"));
  summary << "test accuracy" << (spec.multi_label ? " (mean over attribute heads)" : "") << ": " << accuracy.overall
          << " on " << test.count << " images (" << test.source << ")\n";
  for (size_t c = 0; c < accuracy.per_output.size(); ++c) {
    if (std::isnan(accuracy.per_output[c])) continue;
    summary << "  " << output_names[c] << ": " << accuracy.per_output[c];
    if (spec.multi_label) summary << "  AUC " << accuracy.auc[c];
    summary << "\n";
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
