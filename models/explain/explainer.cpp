#include "models/explain/explainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "models/explain/maps.h"
#include "models/linalg.h"
#include "models/metrics.h"

namespace cfgan {

namespace {

// The true class first, then the `others` most likely classes that are neither it nor the prediction.
std::vector<int64_t> targets_of(const std::vector<float>& probabilities, int32_t label, int32_t predicted,
                                int64_t others) {
  std::vector<int64_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return probabilities[a] > probabilities[b]; });
  std::vector<int64_t> out{label};
  for (int64_t k : order) {
    if (static_cast<int64_t>(out.size()) > others) break;
    if (k != label && k != predicted) out.push_back(k);
  }
  return out;
}

// The valid counterfactual closest to the reconstruction, else the closest of all.
int64_t best_of(const std::vector<Counterfactual>& found) {
  int64_t best = 0;
  for (int64_t i = 1; i < static_cast<int64_t>(found.size()); ++i) {
    const Counterfactual &a = found[i], &b = found[best];
    if (a.valid != b.valid ? a.valid : a.l1 < b.l1) best = i;
  }
  return best;
}

void complete(CounterfactualSet& set, GanGenerator& generator, Classifier& classifier, const ExplainedImage& image,
              const Tensor& inversion, int64_t steps) {
  set.best = best_of(set.found);
  const Counterfactual& best = set.found[set.best];
  set.transition = transition(generator, classifier, inversion, best.configuration, steps, set.target);
  NoGrad no_grad;
  set.difference = map_magnitudes(best.picture - image.reconstruction);
  const int64_t f = set.transition.flip_step;
  if (f > 0) {
    const Tensor& path = set.transition.pictures;
    set.flip_difference = map_magnitudes(narrow(path, 0, f, 1) - narrow(path, 0, f - 1, 1));
  }
}

Matrix features_of(Classifier& classifier, const std::vector<Tensor>& pictures) {
  NoGrad no_grad;
  const Tensor f = classifier.features(concat(pictures, 0));
  Matrix out(f.dim(0), f.dim(1));
  const std::vector<float> values = f.to_host();
  std::copy(values.begin(), values.end(), out.values.begin());
  return out;
}

}  // namespace

std::vector<ExplainedImage> explain_images(GanGenerator& generator, Classifier& classifier, const Tensor& images,
                                           const std::vector<int32_t>& labels, const std::vector<int64_t>& indices,
                                           const ExplainOptions& options) {
  const int64_t n = images.dim(0);
  CFGAN_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(indices.size()) == n, "explain: ", n,
              " images with ", labels.size(), " labels and ", indices.size(), " indices");
  CFGAN_CHECK(options.transition_steps >= 2, "explain: transitions need >= 2 steps, got ", options.transition_steps);
  const bool conditional = generator.configuration_dim() > generator.z_dim();
  const std::vector<std::vector<float>> probabilities = class_probabilities(classifier, images);

  std::vector<ExplainedImage> out(static_cast<size_t>(n));
  std::vector<int64_t> predicted_classes;
  for (int64_t i = 0; i < n; ++i) {
    ExplainedImage& e = out[i];
    e.index = indices[i];
    e.label = labels[i];
    e.probabilities = probabilities[i];
    e.predicted = static_cast<int32_t>(std::max_element(e.probabilities.begin(), e.probabilities.end()) -
                                       e.probabilities.begin());
    e.original = narrow(images, 0, i, 1).detach();
    predicted_classes.push_back(e.predicted);
  }
  // Why the classifier said what it said: every map is for the predicted class.
  for (const std::string& method : options.methods) {
    const std::vector<float> magnitudes =
        map_magnitudes(attribute(method, classifier, images, predicted_classes, options.attribution));
    const int64_t pixels = images.dim(2) * images.dim(3);
    for (int64_t i = 0; i < n; ++i) {
      out[i].maps.emplace_back(magnitudes.begin() + i * pixels, magnitudes.begin() + (i + 1) * pixels);
    }
  }

  InversionOptions inversion_options = options.inversion;
  if (options.progress) inversion_options.on_step = [&](int64_t s, int64_t t) { options.progress("inversion", s, t); };
  const Inversion inversion =
      invert(generator, classifier, images, conditional ? labels : std::vector<int32_t>{}, inversion_options);
  std::vector<std::vector<int64_t>> targets;
  for (int64_t i = 0; i < n; ++i) {
    out[i].reconstruction = narrow(inversion.images, 0, i, 1).detach();
    out[i].reconstruction_error = inversion.pixel_error[i];
    targets.push_back(targets_of(out[i].probabilities, out[i].label, out[i].predicted, options.other_targets));
  }

  SearchOptions search_options = options.search;
  if (options.progress) search_options.on_step = [&](int64_t s, int64_t t) { options.progress("search", s, t); };
  const std::vector<Counterfactual> found =
      search_counterfactuals(generator, classifier, inversion, targets, search_options);
  for (size_t j = 0; j < found.size();) {
    const Counterfactual& first = found[j];
    CounterfactualSet set;
    set.way = "search";
    set.target = first.target;
    for (; j < found.size() && found[j].image == first.image && found[j].target == first.target; ++j) {
      set.found.push_back(found[j]);
    }
    const Tensor from = narrow(inversion.configuration, 0, first.image, 1).detach();
    complete(set, generator, classifier, out[first.image], from, options.transition_steps);
    out[first.image].counterfactuals.push_back(std::move(set));
  }

  if (conditional) {
    // The conditional generator's own answer: the inversion's z with the target class's code.
    NoGrad no_grad;
    for (int64_t i = 0; i < n; ++i) {
      const Tensor from = narrow(inversion.configuration, 0, i, 1).detach();
      const Tensor z = narrow(from, 1, 0, generator.z_dim());
      for (int64_t t : targets[i]) {
        Counterfactual c;
        c.image = i;
        c.target = t;
        c.configuration = generator.configuration(z, {static_cast<int32_t>(t)});
        c.picture = generator.decode(c.configuration);
        c.probabilities = class_probabilities(classifier, c.picture)[0];
        c.valid = std::max_element(c.probabilities.begin(), c.probabilities.end()) - c.probabilities.begin() == t;
        c.l1 = mean(abs(c.picture - out[i].reconstruction)).item();
        CounterfactualSet set;
        set.way = "conditional";
        set.target = t;
        set.found = {c};
        complete(set, generator, classifier, out[i], from, options.transition_steps);
        out[i].counterfactuals.push_back(std::move(set));
      }
    }
  }
  return out;
}

ExplainScores score_explanations(const std::vector<ExplainedImage>& explained, Classifier& classifier,
                                 const Matrix& real_features) {
  ExplainScores scores;
  CFGAN_CHECK(!explained.empty(), "explain: no explained images to score");
  std::vector<Tensor> reconstructions, originals;
  for (const ExplainedImage& e : explained) {
    reconstructions.push_back(e.reconstruction);
    originals.push_back(e.original);
    scores.mean_reconstruction_error += e.reconstruction_error / static_cast<double>(explained.size());
  }
  scores.fd_reconstructions = frechet_distance(real_features, features_of(classifier, reconstructions));

  std::vector<std::string> ways;
  for (const ExplainedImage& e : explained) {
    for (const CounterfactualSet& set : e.counterfactuals) {
      if (std::find(ways.begin(), ways.end(), set.way) == ways.end()) ways.push_back(set.way);
    }
  }
  NoGrad no_grad;
  for (const std::string& way : ways) {
    WayScores w;
    w.way = way;
    int64_t counted = 0, valid = 0;
    double flip_sum = 0;
    std::vector<Tensor> best;
    for (const ExplainedImage& e : explained) {
      const Tensor original_features = classifier.features(e.original);
      for (const CounterfactualSet& set : e.counterfactuals) {
        if (set.way != way) continue;
        ++w.searched;
        bool any = false;
        for (const Counterfactual& c : set.found) counted += 1, valid += c.valid, any = any || c.valid;
        w.found_valid += any;
        const Tensor picture = set.found[set.best].picture;
        best.push_back(picture);
        w.l1_original += mean(abs(picture - e.original)).item();
        w.l1_reconstruction += set.found[set.best].l1;
        w.feature_distance += std::sqrt(sum(square(classifier.features(picture) - original_features)).item());
        if (set.transition.flip_step >= 0) {
          ++w.flipped;
          flip_sum += static_cast<double>(set.transition.flip_step) /
                      static_cast<double>(set.transition.probabilities.size() - 1);
        }
      }
    }
    const double pairs = static_cast<double>(w.searched);
    w.validity = static_cast<double>(valid) / static_cast<double>(counted);
    w.found_valid /= pairs;
    w.l1_original /= pairs;
    w.l1_reconstruction /= pairs;
    w.feature_distance /= pairs;
    w.flip_fraction = w.flipped ? flip_sum / static_cast<double>(w.flipped) : std::nan("");
    w.fd = frechet_distance(real_features, features_of(classifier, best));
    scores.ways.push_back(w);
  }
  return scores;
}

}  // namespace cfgan
