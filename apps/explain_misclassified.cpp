// explain_misclassified: why did the classifier get these images wrong? For each misclassified
// image (most confident mistake first): attribution maps, counterfactual images from a GAN that
// the classifier itself drives (and a conditional GAN's own answer), transitions from the image
// to each, as an HTML report; on the causal world, how well each explanation points at the
// planted cause of the mistake.
//
//   explain_misclassified --classifier runs/clf --generator runs/gan --data worlds/test
//                         --shortcut Striped_Background --out runs/explain
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "apps/common/app.h"
#include "apps/common/data_flags.h"
#include "apps/common/flags.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/run/progress.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/cdvae/model.h"
#include "models/explain/code_flips.h"
#include "models/explain/maps.h"
#include "models/explain/report.h"
#include "models/explain/world_cause.h"
#include "models/gan_trainer.h"
#include "models/world/world_dir.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

// The mean pointing score of each map over the images whose cause is known.
struct PointingSummary {
  std::vector<std::string> names;
  std::vector<double> sum;
  std::vector<int64_t> count;
  void add(const std::string& name, double score) {
    if (!std::isfinite(score)) return;
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) names.push_back(name), sum.push_back(0), count.push_back(0), it = names.end() - 1;
    const size_t k = static_cast<size_t>(it - names.begin());
    sum[k] += score, count[k] += 1;
  }
};

int run(int argc, char** argv) {
  Flags flags(argc, argv, "explain_misclassified",
              "explain a classifier's mistakes with attribution maps and GAN counterfactual images");
  const std::string classifier_flag = flags.get("classifier", "", "train_classifier run directory or checkpoint");
  const std::string generator_flag = flags.get("generator", "", "train_gan run directory or checkpoint");
  const DataChoice data = declare_data_flags(flags, 0, false);
  const std::string split = flags.get("split", "test", "data split (Fashion-MNIST, CelebA)");
  const std::string out = flags.get("out", "", "report folder");
  const int64_t max_images = flags.get_int("max", 16, "misclassified images explained at most (most confident first)");
  ExplainOptions options;
  options.methods =
      flags.get_list("methods", "saliency,gradient_x_input,integrated_gradients,grad_cam", "attribution methods");
  options.attribution.ig_steps = flags.get_int("ig-steps", 32, "integrated gradients: points on the path");
  options.attribution.ig_baseline = static_cast<float>(
      flags.get_double("ig-baseline", -1.0, "integrated gradients: the constant baseline image (-1 black, 0 grey)"));
  options.attribution.cam_block = flags.get("cam-block", "block2", "Grad-CAM's block: block1 or block2");
  options.inversion.steps = flags.get_int("invert-steps", 300, "Adam steps of the GAN inversion");
  options.inversion.restarts = flags.get_int("invert-restarts", 4, "inversion starting points per image");
  options.inversion.lr = static_cast<float>(flags.get_double("invert-lr", 0.05, "inversion learning rate"));
  options.inversion.feature_weight = static_cast<float>(
      flags.get_double("feature-weight", 1.0, "inversion: weight of the classifier-feature distance"));
  options.search.steps = flags.get_int("search-steps", 200, "Adam steps of the counterfactual search");
  options.search.restarts = flags.get_int("restarts", 3, "counterfactuals per target (restart 0 from the inversion)");
  options.search.lr = static_cast<float>(flags.get_double("search-lr", 0.05, "search learning rate"));
  options.search.proximity =
      static_cast<float>(flags.get_double("proximity", 10.0, "weight of mean |G(z) - reconstruction|"));
  options.search.latent_proximity = static_cast<float>(
      flags.get_double("latent-proximity", 0.0, "weight of mean (z - z_inversion)^2 (a short step in z)"));
  options.search.margin = static_cast<float>(flags.get_double("margin", 2.0, "logit margin the target must win by"));
  options.search.restart_noise =
      static_cast<float>(flags.get_double("restart-noise", 0.5, "std of the other restarts' offsets in z"));
  options.other_targets = flags.get_int("other-targets", 1, "targets besides the true class (next likeliest)");
  options.transition_steps = flags.get_int("transition-steps", 9, "images on each transition");
  const std::string shortcut =
      flags.get("shortcut", "", "causal world: the attribute the classifier took as a shortcut (pointing score)");
  const std::string cdvae_flag =
      flags.get("cdvae", "", "a train_cdvae run or checkpoint: also flip each attribute code of the images");
  const std::string judge_flag = flags.get(
      "judge", "", "an attribute classifier (train_classifier --target attributes): which attributes each way changes");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of the inversion and the restarts"));
  const Device device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!classifier_flag.empty() && !generator_flag.empty() && !out.empty(),
              "--classifier, --generator and --out are required (see --help)");
  CFGAN_CHECK(max_images >= 1, "--max: must be >= 1, got ", max_images);
  CFGAN_CHECK(options.other_targets >= 0, "--other-targets: must be >= 0, got ", options.other_targets);
  for (const std::string& m : options.methods) {
    const auto& known = attribution_methods();
    CFGAN_CHECK(std::find(known.begin(), known.end(), m) != known.end(), "--methods: unknown method '", m,
                "' (saliency, gradient_x_input, integrated_gradients, grad_cam)");
  }
  options.inversion.seed = options.search.seed = seed;

  const std::string classifier_path = resolve_checkpoint(classifier_flag, "--classifier");
  const std::string generator_path = resolve_checkpoint(generator_flag, "--generator");
  LoadedClassifier classifier = load_classifier(classifier_path);
  const ClassifierSpec& cspec = classifier.model->spec();
  CFGAN_CHECK(!cspec.multi_label, "--classifier ", classifier_path,
              ": an attribute classifier (independent heads); misclassifications need a class classifier");
  const LoadedGenerator generator = load_generator(generator_path);
  const GanSpec& gspec = generator.spec;
  CFGAN_CHECK(gspec.image_size == cspec.image_size && gspec.channels == cspec.channels, "--generator ", generator_path,
              " makes ", gspec.channels, "x", gspec.image_size, "x", gspec.image_size, " images, the classifier reads ",
              cspec.channels, "x", cspec.image_size, "x", cspec.image_size);
  CFGAN_CHECK(gspec.num_classes == 0 || gspec.num_classes == cspec.num_classes, "--generator ", generator_path,
              " is conditional on ", gspec.num_classes, " classes, the classifier has ", cspec.num_classes);
  classifier.model->to(device);
  generator.model->to(device);

  ImageDataset images = read_data(data, split, cspec.image_size, cspec.channels);
  CFGAN_CHECK(images.class_names == classifier.class_names, "--data ", data.data, ": its ", images.num_classes(),
              " classes are not the ", cspec.num_classes, " the classifier was trained on");
  if (!data.classes.empty() || data.per_class > 0) {
    images = select_subset(images, data.classes, data.per_class, seed);
  }
  const ClassifierView view = embed(*classifier.model, images);
  // Misclassified images, most confident mistake first.
  std::vector<int64_t> wrong;
  std::vector<double> confidence(static_cast<size_t>(images.count), 0.0);
  for (int64_t i = 0; i < images.count; ++i) {
    if (view.argmax[i] == images.labels[i]) continue;
    double total = 0;
    const double* row = view.logits.row(i);
    const double top = *std::max_element(row, row + view.logits.cols);
    for (int64_t k = 0; k < view.logits.cols; ++k) total += std::exp(row[k] - top);
    confidence[i] = 1.0 / total;
    wrong.push_back(i);
  }
  CFGAN_CHECK(!wrong.empty(), "--data ", data.data, ": the classifier gets all ", images.count,
              " images right; there is no mistake to explain");
  std::stable_sort(wrong.begin(), wrong.end(), [&](int64_t a, int64_t b) { return confidence[a] > confidence[b]; });
  std::printf("explain_misclassified: %zu of %ld images misclassified (accuracy %.4f); explaining %ld\n", wrong.size(),
              static_cast<long>(images.count), 1.0 - static_cast<double>(wrong.size()) / images.count,
              static_cast<long>(std::min<int64_t>(max_images, wrong.size())));
  wrong.resize(std::min<size_t>(wrong.size(), static_cast<size_t>(max_images)));

  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;
  for (int64_t i : wrong) {
    labels.push_back(images.labels[i]);
    const auto first = images.pixels.begin() + i * images.image_bytes();
    pixels.insert(pixels.end(), first, first + images.image_bytes());
  }
  const int64_t n = static_cast<int64_t>(wrong.size());
  const Tensor batch = pixels_to_tensor(pixels.data(), n, images.channels, images.height, images.width).to(device);

  std::fflush(stdout);
  std::unique_ptr<Progress> progress;
  std::string phase;
  options.progress = [&](const std::string& p, int64_t done, int64_t total) {
    if (p != phase) {
      phase = p;
      progress = std::make_unique<Progress>(p, total);
    }
    if (done < total)
      progress->update(done, "");
    else
      progress->finish(done, "");
  };
  const std::vector<ExplainedImage> explained =
      explain_images(*generator.model, *classifier.model, batch, labels, wrong, options);
  const ExplainScores scores = score_explanations(explained, *classifier.model, view.features);
  std::unique_ptr<CodeFlips> code_flips;
  if (!cdvae_flag.empty()) {
    const std::string path = resolve_checkpoint(cdvae_flag, "--cdvae");
    const std::shared_ptr<CdvaeGan> cdvae = load_cdvae(path);
    const CdvaeSpec& s = cdvae->spec();
    CFGAN_CHECK(s.image_size == cspec.image_size && s.channels == cspec.channels, "--cdvae ", path, " makes ",
                s.channels, "x", s.image_size, "x", s.image_size, " images, the classifier reads ", cspec.channels, "x",
                cspec.image_size, "x", cspec.image_size);
    cdvae->to(device);
    code_flips = std::make_unique<CodeFlips>(flip_codes(*cdvae, *classifier.model, batch, labels));
  }

  // The causal world: pointing scores against the shortcut's true-cause mask.
  std::vector<ImageCause> causes;
  PointingSummary pointing;
  int64_t usable = 0;
  if (!shortcut.empty()) {
    const WorldFolder world = read_world(data.data);
    const LabelRule rule = LabelRule::parse(world.spec, world.label);
    std::vector<int64_t> units;
    std::vector<bool> positive;
    for (int64_t i : wrong) {
      CFGAN_CHECK(!images.files.empty(), "--shortcut: the images of ", data.data, " have no file names");
      units.push_back(world_unit_of(images.files[i]));
      positive.push_back(images.class_names[images.labels[i]] == rule.class_name(true));
    }
    const std::vector<CauseMask> masks =
        shortcut_cause_masks(world, shortcut, units, positive, *classifier.model, labels);
    const int64_t plane = images.height * images.width;
    for (int64_t i = 0; i < n; ++i) {
      ImageCause cause;
      if (masks[i].usable) {
        ++usable;
        cause.mask = masks[i].pixels;
        for (size_t m = 0; m < options.methods.size(); ++m) {
          cause.pointing.emplace_back(options.methods[m],
                                      pointing_score(explained[i].maps[m].data(), cause.mask.data(), plane));
        }
        if (code_flips && code_flips->best[i] >= 0) {
          cause.pointing.emplace_back("cdvae",
                                      pointing_score(code_flips->difference[i].data(), cause.mask.data(), plane));
        }
        for (const CounterfactualSet& set : explained[i].counterfactuals) {
          if (set.target == explained[i].label) {
            cause.pointing.emplace_back(set.way, pointing_score(set.difference.data(), cause.mask.data(), plane));
            if (!set.flip_difference.empty()) {
              cause.pointing.emplace_back(set.way + " (flip step)",
                                          pointing_score(set.flip_difference.data(), cause.mask.data(), plane));
            }
          }
        }
        for (const auto& [name, score] : cause.pointing) pointing.add(name, score);
      }
      causes.push_back(std::move(cause));
    }
  }

  fs::create_directories(out);
  ReportInput report;
  report.images = explained;
  report.methods = options.methods;
  report.class_names = classifier.class_names;
  report.causes = causes;
  report.scores = scores;
  report.code_flips = code_flips.get();
  report.title = "Misclassifications of " + classifier_path;
  const std::string index = write_explain_report(out, report);

  std::printf("\n  %-12s %6s %9s %11s %9s %9s %9s %8s %6s %8s\n", "way", "pairs", "validity", "valid pair", "L1 orig",
              "L1 recon", "feat dist", "FD", "flips", "flip at");
  nlohmann::json j;
  for (const WayScores& w : scores.ways) {
    std::printf("  %-12s %6ld %9.3f %11.3f %9.4f %9.4f %9.3f %8.2f %6ld %8.2f\n", w.way.c_str(),
                static_cast<long>(w.searched), w.validity, w.found_valid, w.l1_original, w.l1_reconstruction,
                w.feature_distance, w.fd, static_cast<long>(w.flipped), w.flip_fraction);
    j["ways"][w.way] = {
        {"pairs", w.searched},
        {"validity", w.validity},
        {"found_valid", w.found_valid},
        {"l1_original", w.l1_original},
        {"l1_reconstruction", w.l1_reconstruction},
        {"feature_distance", w.feature_distance},
        {"fd", w.fd},
        {"flipped", w.flipped},
        {"flip_fraction", std::isfinite(w.flip_fraction) ? nlohmann::json(w.flip_fraction) : nlohmann::json(nullptr)}};
  }
  std::printf("  reconstructions: MSE %.4f, FD %.2f\n", scores.mean_reconstruction_error, scores.fd_reconstructions);
  if (code_flips) {
    std::printf("\n  CDVAE-GAN code flips, share of these mistakes each undoes:\n ");
    for (const std::string& a : code_flips->attributes) std::printf(" %9.9s", a.c_str());
    std::printf("\n ");
    for (size_t a = 0; a < code_flips->attributes.size(); ++a) {
      std::printf(" %9.3f", code_flips->fixes[a]);
      j["cdvae_fixes"][code_flips->attributes[a]] = code_flips->fixes[a];
    }
    std::printf("\n");
  }
  j["reconstruction"] = {{"mse", scores.mean_reconstruction_error}, {"fd", scores.fd_reconstructions}};
  j["misclassified"] = wrong.size();
  j["explained"] = n;
  if (!shortcut.empty()) {
    std::printf(
        "\n  pointing at the true cause (%s), %ld of %ld images whose exact counterfactual the classifier "
        "gets right:\n",
        shortcut.c_str(), static_cast<long>(usable), static_cast<long>(n));
    for (size_t k = 0; k < pointing.names.size(); ++k) {
      const double mean = pointing.sum[k] / static_cast<double>(pointing.count[k]);
      std::printf("  %-22s %7.3f  (%ld images)\n", pointing.names[k].c_str(), mean,
                  static_cast<long>(pointing.count[k]));
      j["pointing"][pointing.names[k]] = {{"mean", mean}, {"images", pointing.count[k]}};
    }
    j["pointing_images"] = usable;
  }
  if (!judge_flag.empty()) {
    // What each way changes, in attribute terms: the share of best counterfactuals whose judged
    // attribute differs from the judged reconstruction's.
    const LoadedClassifier judge = load_classifier(resolve_checkpoint(judge_flag, "--judge"));
    CFGAN_CHECK(judge.model->spec().multi_label, "--judge ", judge_flag, ": not an attribute classifier");
    judge.model->to(device);
    std::printf("\n  attributes changed (judge %s), share of counterfactuals:\n  %-12s", judge_flag.c_str(), "way");
    for (const std::string& a : judge.class_names) std::printf(" %9.9s", a.c_str());
    std::printf("\n");
    for (const WayScores& w : scores.ways) {
      std::vector<int64_t> changed(judge.class_names.size(), 0);
      int64_t count = 0;
      NoGrad no_grad;
      for (const ExplainedImage& e : explained) {
        const std::vector<float> before = judge.model->logits(e.reconstruction).to_host();
        for (const CounterfactualSet& set : e.counterfactuals) {
          if (set.way != w.way) continue;
          const std::vector<float> after = judge.model->logits(set.found[set.best].picture).to_host();
          for (size_t a = 0; a < changed.size(); ++a) changed[a] += (before[a] >= 0) != (after[a] >= 0);
          ++count;
        }
      }
      std::printf("  %-12s", w.way.c_str());
      for (size_t a = 0; a < changed.size(); ++a) {
        const double share = static_cast<double>(changed[a]) / static_cast<double>(count);
        std::printf(" %9.3f", share);
        j["attributes_changed"][w.way][judge.class_names[a]] = share;
      }
      std::printf("\n");
    }
  }
  for (const ExplainedImage& e : explained) {
    nlohmann::json item{{"index", e.index},
                        {"label", e.label},
                        {"predicted", e.predicted},
                        {"confidence", e.probabilities[e.predicted]},
                        {"reconstruction_mse", e.reconstruction_error}};
    for (const CounterfactualSet& set : e.counterfactuals) {
      const Counterfactual& best = set.found[set.best];
      item["counterfactuals"].push_back({{"way", set.way},
                                         {"target", set.target},
                                         {"valid", best.valid},
                                         {"p_target", best.probabilities[set.target]},
                                         {"l1", best.l1},
                                         {"flip_step", set.transition.flip_step}});
    }
    j["images"].push_back(item);
  }
  std::ofstream(out + "/scores.json") << j.dump(2) << "\n";
  std::printf("\n  report: %s\n  scores: %s/scores.json\n", index.c_str(), out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("explain_misclassified", run, argc, argv); }
