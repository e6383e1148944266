#include "models/explain/search.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace cfgan {

namespace {

// Row r of the result is row rows[r] of x.
Tensor pick_rows(const Tensor& x, const std::vector<int32_t>& rows) { return index_select(x, 0, rows); }

std::vector<int32_t> pick_labels(const std::vector<int32_t>& labels, const std::vector<int32_t>& rows) {
  std::vector<int32_t> out;
  if (labels.empty()) return out;
  for (int32_t r : rows) out.push_back(labels[static_cast<size_t>(r)]);
  return out;
}

int64_t argmax_of(const std::vector<float>& p) {
  return std::distance(p.begin(), std::max_element(p.begin(), p.end()));
}

}  // namespace

LatentSearch::LatentSearch(GanGenerator& generator, const Tensor& start, Loss loss, float lr, int64_t free_columns)
    : generator_(generator), loss_(std::move(loss)) {
  CFGAN_CHECK(start.ndim() == 2 && start.dim(1) == generator.configuration_dim(), "latent search: start must be (N, ",
              generator.configuration_dim(), "), got ", start.shape().str());
  const int64_t z_dim = free_columns > 0 ? free_columns : generator.z_dim();
  CFGAN_CHECK(z_dim <= start.dim(1), "latent search: ", z_dim, " moving columns of ", start.dim(1));
  NoGrad no_grad;
  z_ = Tensor::empty({start.dim(0), z_dim}, start.device());
  z_.copy_(narrow(start, 1, 0, z_dim));
  z_.requires_grad_();
  if (z_dim < start.dim(1)) {
    rest_ = Tensor::empty({start.dim(0), start.dim(1) - z_dim}, start.device());
    rest_.copy_(narrow(start, 1, z_dim, start.dim(1) - z_dim));
  }
  adam_ = std::make_unique<Adam>(NamedTensors{{"z", z_}}, AdamOptions{.lr = lr});
}

void LatentSearch::step() {
  adam_->zero_grad();
  const Tensor images = generator_.decode(rest_.defined() ? concat({z_, rest_}, 1) : z_);
  const Tensor losses = loss_(images, z_);
  CFGAN_CHECK(losses.ndim() == 1 && losses.dim(0) == z_.dim(0), "latent search: the loss must give one value per row (",
              z_.dim(0), "), got ", losses.shape().str());
  sum(losses).backward();
  adam_->step();
}

void LatentSearch::run(int64_t steps, const std::function<void(int64_t, int64_t)>& on_step) {
  for (int64_t s = 0; s < steps; ++s) {
    step();
    if (on_step) on_step(s + 1, steps);
  }
}

Tensor LatentSearch::configuration() const {
  NoGrad no_grad;
  return rest_.defined() ? concat({z_.detach(), rest_}, 1) : z_.detach();
}

std::vector<std::vector<float>> class_probabilities(Classifier& classifier, const Tensor& images) {
  NoGrad no_grad;
  const Tensor p = softmax(classifier.logits(images), 1);
  const std::vector<float> flat = p.to_host();
  const int64_t k = p.dim(1);
  std::vector<std::vector<float>> out;
  for (int64_t i = 0; i < p.dim(0); ++i) out.emplace_back(flat.begin() + i * k, flat.begin() + (i + 1) * k);
  return out;
}

Inversion invert(GanGenerator& generator, Classifier& classifier, const Tensor& images,
                 const std::vector<int32_t>& labels, const InversionOptions& options) {
  CFGAN_CHECK(options.steps >= 1 && options.restarts >= 1, "inversion: steps and restarts must be >= 1");
  const int64_t n = images.dim(0), restarts = options.restarts;
  const int64_t z_dim = generator.z_dim();
  std::vector<int32_t> rows;  // row i * restarts + r inverts image i
  for (int64_t i = 0; i < n; ++i) rows.insert(rows.end(), restarts, static_cast<int32_t>(i));
  FrozenParameters frozen_g(generator), frozen_c(classifier);
  Tensor targets, target_features, start;
  Generator noise(options.seed);
  {
    NoGrad no_grad;
    targets = pick_rows(images, rows);
    target_features = classifier.features(targets);
    start = Tensor::randn({static_cast<int64_t>(rows.size()), z_dim}, noise, images.device());
    start = generator.configuration(start, pick_labels(labels, rows));
  }
  // Per row: how far the decode is from its image, in pixels and in the classifier's features.
  const float fw = options.feature_weight, pw = options.prior_weight;
  auto distance = [&](const Tensor& x) {
    return mean(square(x - targets), {1, 2, 3}) + fw * mean(square(classifier.features(x) - target_features), {1});
  };
  LatentSearch search(
      generator, start,
      [&](const Tensor& x, const Tensor& c) { return distance(x) + pw * mean(square(narrow(c, 1, 0, z_dim)), {1}); },
      options.lr, generator.configuration_dim());
  search.run(options.steps, options.on_step);

  NoGrad no_grad;
  const Tensor all = search.configuration();
  const Tensor decoded = generator.decode(all);
  const std::vector<float> loss = distance(decoded).to_host();
  std::vector<int32_t> best;
  for (int64_t i = 0; i < n; ++i) {
    int64_t b = i * restarts;
    for (int64_t r = 1; r < restarts; ++r) b = loss[i * restarts + r] < loss[b] ? i * restarts + r : b;
    best.push_back(static_cast<int32_t>(b));
  }
  Inversion out;
  out.configuration = pick_rows(all, best);
  out.images = pick_rows(decoded, best);
  out.pixel_error = mean(square(out.images - images), {1, 2, 3}).to_host();
  return out;
}

std::vector<Counterfactual> search_counterfactuals(GanGenerator& generator, Classifier& classifier,
                                                   const Inversion& start,
                                                   const std::vector<std::vector<int64_t>>& targets,
                                                   const SearchOptions& options) {
  const int64_t n = start.configuration.dim(0), classes = classifier.spec().num_classes;
  CFGAN_CHECK(static_cast<int64_t>(targets.size()) == n, "counterfactual search: target lists for ", targets.size(),
              " images, inversions of ", n);
  CFGAN_CHECK(options.steps >= 1 && options.restarts >= 1, "counterfactual search: steps and restarts must be >= 1");
  const int64_t dim = generator.configuration_dim();
  std::vector<int32_t> rows;
  std::vector<Counterfactual> out;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t t : targets[i]) {
      CFGAN_CHECK(t >= 0 && t < classes, "counterfactual search: target class ", t, " of image ", i,
                  " is not one of the classifier's ", classes);
      for (int64_t r = 0; r < options.restarts; ++r) {
        rows.push_back(static_cast<int32_t>(i));
        Counterfactual c;
        c.image = i, c.target = t, c.restart = r;
        out.push_back(c);
      }
    }
  }
  if (rows.empty()) return out;
  const int64_t m = static_cast<int64_t>(rows.size());
  const int64_t z_dim = generator.z_dim();
  FrozenParameters frozen_g(generator), frozen_c(classifier);
  Tensor begin, reference, anchor, one_hot;
  {
    NoGrad no_grad;
    const Device device = start.configuration.device();
    // Restart 0 starts at the inversion; the others at a seeded offset in z.
    std::vector<float> offsets(static_cast<size_t>(m * dim), 0.0f);
    Generator noise(options.seed);
    const std::vector<float> draws = Tensor::randn({m, dim}, noise).to_host();
    std::vector<float> hot(static_cast<size_t>(m * classes), 0.0f);
    for (int64_t j = 0; j < m; ++j) {
      hot[static_cast<size_t>(j * classes + out[j].target)] = 1.0f;
      if (out[j].restart == 0) continue;
      for (int64_t d = 0; d < z_dim; ++d) offsets[j * dim + d] = options.restart_noise * draws[j * dim + d];
    }
    begin = pick_rows(start.configuration, rows) + Tensor::from_host({m, dim}, offsets, device);
    reference = pick_rows(start.images, rows);
    anchor = narrow(pick_rows(start.configuration, rows), 1, 0, z_dim);
    one_hot = Tensor::from_host({m, classes}, hot, device);
  }
  // A hinge on the margin: once the target wins by `margin`, only proximity pulls.
  const float margin = options.margin, proximity = options.proximity, latent = options.latent_proximity;
  LatentSearch search(
      generator, begin,
      [&](const Tensor& x, const Tensor& z) {
        const Tensor logits = classifier.logits(x);
        const Tensor target_logit = sum(logits * one_hot, {1});
        const Tensor best_other = max(logits - one_hot * 1e4f, 1);
        return relu(best_other - target_logit + margin) + proximity * mean(abs(x - reference), {1, 2, 3}) +
               latent * mean(square(z - anchor), {1});
      },
      options.lr);
  search.run(options.steps, options.on_step);

  NoGrad no_grad;
  const Tensor found = search.configuration();
  const Tensor pictures = generator.decode(found);
  const std::vector<std::vector<float>> probabilities = class_probabilities(classifier, pictures);
  const std::vector<float> l1 = mean(abs(pictures - reference), {1, 2, 3}).to_host();
  for (int64_t j = 0; j < m; ++j) {
    Counterfactual& c = out[j];
    c.configuration = pick_rows(found, {static_cast<int32_t>(j)});
    c.picture = pick_rows(pictures, {static_cast<int32_t>(j)});
    c.probabilities = probabilities[j];
    c.valid = argmax_of(c.probabilities) == c.target;
    c.l1 = l1[j];
  }
  return out;
}

Transition transition(GanGenerator& generator, Classifier& classifier, const Tensor& from, const Tensor& to,
                      int64_t steps, int64_t target) {
  CFGAN_CHECK(steps >= 2, "transition: steps must be >= 2, got ", steps);
  CFGAN_CHECK(from.ndim() == 2 && from.dim(0) == 1 && from.shape() == to.shape(),
              "transition: expected two configurations (1, D), got ", from.shape().str(), " and ", to.shape().str());
  NoGrad no_grad;
  std::vector<float> alpha;
  for (int64_t k = 0; k < steps; ++k) alpha.push_back(static_cast<float>(k) / static_cast<float>(steps - 1));
  const Tensor t = Tensor::from_host({steps, 1}, alpha, from.device());
  const Tensor path = from + (to - from) * t;  // (steps, D)
  Transition out;
  out.pictures = generator.decode(path);
  out.probabilities = class_probabilities(classifier, out.pictures);
  for (int64_t k = 0; k < steps && out.flip_step < 0; ++k) {
    if (argmax_of(out.probabilities[k]) == target) out.flip_step = k;
  }
  return out;
}

}  // namespace cfgan
