#include "models/world/scores.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/tensor.h"
#include "models/classifier.h"
#include "models/world/render.h"

namespace cfgan {

Proportion wilson(int64_t hits, int64_t count) {
  Proportion p{hits, count, std::numeric_limits<double>::quiet_NaN(), 0, 1};
  if (count == 0) return p;
  const double z = 1.959963984540054, n = static_cast<double>(count), phat = static_cast<double>(hits) / n;
  const double centre = (phat + z * z / (2 * n)) / (1 + z * z / n);
  const double half = z / (1 + z * z / n) * std::sqrt(phat * (1 - phat) / n + z * z / (4 * n * n));
  p.value = phat;
  p.lo = std::max(0.0, centre - half);
  p.hi = std::min(1.0, centre + half);
  return p;
}

Decide decide_with_classifier(Classifier& model, int64_t output) {
  return [&model, output](const uint8_t* pixels, const int8_t*, int64_t n) {
    const ClassifierSpec& spec = model.spec();
    NoGrad no_grad;
    const std::vector<float> logits =
        model.logits(pixels_to_tensor(pixels, n, spec.channels, spec.image_size, spec.image_size)).to_host();
    std::vector<uint8_t> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float* row = logits.data() + i * spec.num_classes;
      out[i] = spec.multi_label ? row[output] >= 0 : std::max_element(row, row + spec.num_classes) - row == output;
    }
    return out;
  };
}

std::vector<CausalScores> true_causal_scores(const WorldSpec& spec, const WorldUnits& units,
                                             const std::vector<int>& attributes, Effect effect, const Decide& decide,
                                             int64_t batch) {
  const int64_t k_count = spec.num_attributes(), size = spec.image_size, image = 3 * size * size;
  // Per unit: the factual decision and, per scored attribute X, the decisions under do(X=+1) and
  // do(X=-1). One of the two is the factual world itself (do(X = its own value) changes nothing),
  // so only the flipped one is rendered.
  std::vector<int8_t> factual(static_cast<size_t>(units.count * k_count));
  std::vector<uint8_t> o_factual(static_cast<size_t>(units.count));
  std::vector<std::vector<uint8_t>> o_plus(attributes.size()), o_minus(attributes.size());
  std::vector<uint8_t> pixels;
  std::vector<int8_t> attrs;

  // Decides units [b, b + n): factual when `flip` < 0, else under do(A_flip := -factual).
  auto decide_batch = [&](int64_t b, int64_t n, int flip) {
    pixels.resize(static_cast<size_t>(n * image));
    attrs.resize(static_cast<size_t>(n * k_count));
    UnitIntervention flipped;
    if (flip >= 0)
      flipped = [&, flip](int64_t unit) {
        Intervention i(static_cast<size_t>(k_count), 0);
        i[flip] = static_cast<int8_t>(-factual[unit * k_count + flip]);
        return i;
      };
    render_units(spec, units, b, n, flipped, effect, pixels.data(), attrs.data());
    return decide(pixels.data(), attrs.data(), n);
  };

  for (auto& v : o_plus) v.resize(static_cast<size_t>(units.count));
  for (auto& v : o_minus) v.resize(static_cast<size_t>(units.count));
  for (int64_t b = 0; b < units.count; b += batch) {
    const int64_t n = std::min(batch, units.count - b);
    const std::vector<uint8_t> o = decide_batch(b, n, -1);
    std::copy(o.begin(), o.end(), o_factual.begin() + b);
    std::copy(attrs.begin(), attrs.end(), factual.begin() + b * k_count);
    for (size_t j = 0; j < attributes.size(); ++j) {
      const int x = attributes[j];
      const std::vector<uint8_t> flipped = decide_batch(b, n, x);
      for (int64_t i = 0; i < n; ++i) {
        const bool x_on = factual[(b + i) * k_count + x] > 0;
        o_plus[j][b + i] = x_on ? o[i] : flipped[i];
        o_minus[j][b + i] = x_on ? flipped[i] : o[i];
      }
    }
  }

  std::vector<CausalScores> scores;
  for (size_t j = 0; j < attributes.size(); ++j) {
    const int x = attributes[j];
    int64_t nec_hits = 0, nec_count = 0, suf_hits = 0, suf_count = 0, both = 0;
    for (int64_t i = 0; i < units.count; ++i) {
      const bool x_on = factual[i * k_count + x] > 0, o = o_factual[i] != 0;
      const bool o_plus_i = o_plus[j][i] != 0, o_minus_i = o_minus[j][i] != 0;
      if (x_on && o) nec_count++, nec_hits += !o_minus_i;
      if (!x_on && !o) suf_count++, suf_hits += o_plus_i;
      both += o_plus_i && !o_minus_i;
    }
    scores.push_back(
        {spec.attributes[x].name, wilson(nec_hits, nec_count), wilson(suf_hits, suf_count), wilson(both, units.count)});
  }
  return scores;
}

}  // namespace cfgan
