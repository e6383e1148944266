// study: the data-size study. Trains the reference DCGAN on Fashion-MNIST subsets of
// {1, 3, 10} categories x {100, 600, 6000} images per category, each as baseline, +UR,
// +ER and +UR+ER, with fixed seeds and a fixed step budget, and scores every run
// against held-out real images of its categories (FD, KID, precision, recall, density,
// coverage in a train_classifier embedding). Writes results.csv (one row per run, as
// soon as it ends, so an interrupted study resumes where it stopped), results.md,
// fd.png / recall.png and a sample grid per run.
//
//   study --classifier runs/classifier --quick --out runs/study-quick   # ~1 hour, 2 cores
//   study --classifier runs/classifier --out runs/study                 # the full grid: a GPU's job
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "apps/common/loop_flags.h"
#include "engine/data/dataset.h"
#include "engine/engine.h"
#include "engine/io/image.h"
#include "engine/io/plot.h"
#include "engine/run/progress.h"
#include "engine/run/results_table.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/evaluation.h"
#include "models/gan_trainer.h"
#include "models/regularizers.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

struct Variant {
  const char* name;
  bool ur, er;
};
constexpr Variant kVariants[] = {{"baseline", false, false}, {"ur", true, false}, {"er", false, true},
                                 {"ur+er", true, true}};

// The category sets: one, three and all ten Fashion-MNIST classes.
std::vector<int32_t> categories(int64_t count) {
  if (count == 1) return {0};
  if (count == 3) return {0, 3, 7};
  if (count == 10) return {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  fail("--categories: expected counts among 1, 3 and 10, got ", count);
}

struct Run {
  int64_t categories, per_class, seed;
  Variant variant;
  std::string key() const { return cat(categories, "/", per_class, "/", variant.name, "/", seed); }
};

const std::vector<std::string> kColumns{"categories", "per_class", "variant", "seed", "steps", "fd", "kid_mean",
                                        "kid_std", "precision", "recall", "density", "coverage", "classes_covered",
                                        "kl_uniform", "train_seconds"};

ResultsTable::Row train_and_score(const Run& run, int64_t steps, int64_t n_generated, int64_t real_per_class,
                                         const ImageDataset& train_all, const ImageDataset& test_all,
                                         Classifier& classifier, Device device, const std::string& grid_path) {
  const std::vector<int32_t> classes = categories(run.categories);
  const ImageDataset data = select_subset(train_all, classes, run.per_class, static_cast<uint64_t>(run.seed));
  const ImageDataset real = select_subset(test_all, classes, real_per_class, static_cast<uint64_t>(run.seed));
  GanTrainConfig config;  // the reference DCGAN and train_gan's defaults
  config.seed = static_cast<uint64_t>(run.seed);
  config.device = device;
  config.batch = std::min<int64_t>(64, data.count);
  config.reg.ur_weight = run.variant.ur ? kUrWeight : 0.0f;
  config.reg.er_weight = run.variant.er ? kErWeight : 0.0f;
  GanTrainer trainer(config, data);
  Progress progress(cat("  ", run.key(), " step"), steps);
  GanStepStats stats;
  while (trainer.steps_done() < steps) {
    stats = trainer.step();
    CFGAN_CHECK(std::isfinite(stats.d_loss) && std::isfinite(stats.g_loss), "run ", run.key(), ": loss is not finite at step ",
                trainer.steps_done());
    progress.update(trainer.steps_done(), cat("D ", stats.d_loss, "  G ", stats.g_loss));
  }
  progress.finish(trainer.steps_done(), cat("D ", stats.d_loss, "  G ", stats.g_loss));
  const double train_seconds = progress.elapsed_seconds();

  GanGenerator& g = trainer.sampling_generator();
  const ImageDataset fake = generate_images(g, config.spec, n_generated, classes, config.seed + 1, config.device,
                                            run.key());
  write_png(grid_path, image_grid(image_batch(fake, 0, std::min<int64_t>(64, fake.count)), 8));
  const GanScores s = score_images(classifier, real, fake, present_classes(real), config.seed);
  return {{"categories", cat(run.categories)}, {"per_class", cat(run.per_class)}, {"variant", run.variant.name},
          {"seed", cat(run.seed)}, {"steps", cat(steps)}, {"fd", cat(s.fd)}, {"kid_mean", cat(s.kid.mean)},
          {"kid_std", cat(s.kid.std)}, {"precision", cat(s.manifold.precision)}, {"recall", cat(s.manifold.recall)},
          {"density", cat(s.manifold.density)}, {"coverage", cat(s.manifold.coverage)},
          {"classes_covered", cat(s.histogram.covered)}, {"kl_uniform", cat(s.histogram.kl_uniform)},
          {"train_seconds", cat(train_seconds)}};
}

std::string key_of(const ResultsTable::Row& row) {
  return cat(row.at("categories"), "/", row.at("per_class"), "/", row.at("variant"), "/", row.at("seed"));
}

// The table over the requested cells (a results.csv may hold others from earlier studies),
// and FD and recall against log10 of the images per category, a line per (categories, variant).
void write_reports(const std::string& out, const ResultsTable& all, const std::vector<int64_t>& cats,
                   const std::vector<int64_t>& sizes) {
  ResultsTable table(all.columns());
  auto wanted = [](const std::vector<int64_t>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), std::stoll(x)) != v.end();
  };
  for (const ResultsTable::Row& row : all.rows())
    if (wanted(cats, row.at("categories")) && wanted(sizes, row.at("per_class"))) table.add(row);
  std::ofstream(out + "/results.md") << markdown_summary(
      table, {{"categories", "categories"}, {"per category", "per_class"}, {"variant", "variant"}},
      {{"FD ↓", column_value("fd"), 1},
       {"KID ↓", column_value("kid_mean"), 1},
       {"precision ↑", column_value("precision"), 3},
       {"recall ↑", column_value("recall"), 3},
       {"density", column_value("density"), 3},
       {"coverage ↑", column_value("coverage"), 3}});
  std::vector<Series> fd_series, recall_series;
  for (const ResultsTable::Group& line : table.group_by({"categories", "variant"})) {
    Series fd{.label = cat(line.front()->at("categories"), " cat, ", line.front()->at("variant"))}, recall = fd;
    ResultsTable points(table.columns());
    for (const auto* row : line) points.add(*row);
    for (const ResultsTable::Group& cell : points.group_by({"per_class"})) {
      const double x = std::log10(ResultsTable::number(*cell.front(), "per_class"));
      fd.x.push_back(x);
      fd.y.push_back(group_mean(cell, "fd"));
      recall.x.push_back(x);
      recall.y.push_back(group_mean(cell, "recall"));
    }
    fd_series.push_back(fd);
    recall_series.push_back(recall);
  }
  write_plot_png(out + "/fd.png", fd_series,
                 {.title = "FD vs training-set size (lower is better)", .x_label = "log10(images per category)",
                  .y_label = "FD", .width = 900, .height = 560, .log_y = true});
  write_plot_png(out + "/recall.png", recall_series,
                 {.title = "Recall vs training-set size", .x_label = "log10(images per category)",
                  .y_label = "recall (k = 3)", .width = 900, .height = 560});
}

std::vector<int64_t> int64s(const std::vector<int32_t>& v) { return std::vector<int64_t>(v.begin(), v.end()); }

int run(int argc, char** argv) {
  Flags flags(argc, argv, "study", "GAN quality vs training-set size, with and without UR / ER");
  const std::string classifier_path = flags.get("classifier", "", "train_classifier checkpoint or run directory");
  const bool quick = flags.get_bool("quick", "fewer cells and steps: about an hour on 2 CPU cores");
  std::vector<int64_t> cats = int64s(flags.get_int_list("categories", "category counts [1,3,10]"));
  std::vector<int64_t> sizes = int64s(flags.get_int_list("per-class", "images per category [100,600,6000]"));
  const int64_t steps = flags.get_int("steps", quick ? 500 : 3000, "training steps per run");
  const int64_t seeds = flags.get_int("seeds", quick ? 1 : 3, "seeds per cell (1, 2, ...)");
  const int64_t n_generated = flags.get_int("n", quick ? 2000 : 5000, "generated images scored per run");
  const int64_t real_per_class = flags.get_int("real-per-class", quick ? 500 : 1000, "held-out real images per category");
  const std::string out = flags.get("out", quick ? "runs/study-quick" : "runs/study", "output directory");
  const Device device = parse_device(flags.get("device", "auto", "training and sampling device: cpu, cuda or auto"));
  const MatmulPrecision precision = declare_precision_flag(flags);
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!classifier_path.empty(), "--classifier: a train_classifier checkpoint is required "
              "(build/apps/train_classifier --out runs/classifier makes one)");
  CFGAN_CHECK(steps >= 1 && seeds >= 1 && n_generated >= 10 && real_per_class >= 10,
              "--steps and --seeds must be >= 1, --n and --real-per-class >= 10");
  if (cats.empty()) cats = quick ? std::vector<int64_t>{1, 10} : std::vector<int64_t>{1, 3, 10};
  if (sizes.empty()) sizes = {100, 600, 6000};
  for (int64_t c : cats) categories(c);
  for (int64_t n : sizes) CFGAN_CHECK(n >= 1 && n <= 6000, "--per-class: sizes must be in [1, 6000], got ", n);

  const LoadedClassifier classifier = load_classifier(resolve_checkpoint(classifier_path, "--classifier"));
  CFGAN_CHECK(classifier.model->spec().image_size == 28 && classifier.model->spec().channels == 1 &&
                  classifier.class_names == fashion_mnist_class_names(),
              "--classifier ", classifier_path, ": expected a Fashion-MNIST classifier (28x28x1, 10 classes)");
  const ImageDataset train_all = load_fashion_mnist(kFashionMnistDir, "train");
  const ImageDataset test_all = load_fashion_mnist(kFashionMnistDir, "test");
  fs::create_directories(fs::path(out) / "grids");
  const std::string csv_path = out + "/results.csv";
  ResultsTable table(kColumns);
  table.attach_csv(csv_path, true);
  std::set<std::string> finished;
  for (const ResultsTable::Row& row : table.rows()) finished.insert(key_of(row));

  std::vector<Run> runs;
  for (int64_t seed = 1; seed <= seeds; ++seed) {
    for (int64_t c : cats) {
      for (int64_t n : sizes) {
        for (const Variant& v : kVariants) runs.push_back({c, n, seed, v});
      }
    }
  }
  std::printf("study: %zu runs of %ld steps on %s (%zu already in %s), %s products, classifier %s (test accuracy %.4f)\n",
              runs.size(), static_cast<long>(steps), device_name(device), table.rows().size(), csv_path.c_str(),
              precision_name(precision),
              classifier_path.c_str(), classifier.test_accuracy);
  std::fflush(stdout);
  const auto started = std::chrono::steady_clock::now();
  size_t done = 0;
  for (const Run& run : runs) {
    ++done;
    if (finished.count(run.key())) continue;
    const std::string grid = cat(out, "/grids/c", run.categories, "_n", run.per_class, "_", run.variant.name, "_s",
                                 run.seed, ".png");
    const ResultsTable::Row row =
        train_and_score(run, steps, n_generated, real_per_class, train_all, test_all, *classifier.model, device, grid);
    table.add(row);
    finished.insert(run.key());
    const double minutes = seconds_since(started) / 60;
    std::printf("study: [%zu/%zu] %s: FD %s, KID %s, precision %s, recall %s (%.1f min so far)\n", done, runs.size(),
                run.key().c_str(), row.at("fd").c_str(), row.at("kid_mean").c_str(), row.at("precision").c_str(),
                row.at("recall").c_str(), minutes);
    std::fflush(stdout);
  }
  write_reports(out, table, cats, sizes);
  std::printf("study: done\n  table: %s/results.md\n  rows:  %s\n  plots: %s/fd.png, %s/recall.png\n  grids: %s/grids/\n",
              out.c_str(), csv_path.c_str(), out.c_str(), out.c_str(), out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("study", run, argc, argv); }
