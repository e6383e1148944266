#include "models/contrastive/generated_units.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {

DecideImages decide_images(Classifier& model, int64_t output) {
  return [&model, output](const Tensor& images) {
    NoGrad no_grad;
    const int64_t classes = model.spec().num_classes, n = images.dim(0);
    const std::vector<float> logits = model.logits(images).to_host();
    std::vector<uint8_t> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float* row = logits.data() + i * classes;
      out[i] = model.spec().multi_label ? row[output] >= 0 : std::max_element(row, row + classes) - row == output;
    }
    return out;
  };
}

std::vector<ContrastiveUnit> GeneratedUnits::pairs(int64_t x) const {
  std::vector<ContrastiveUnit> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[i] = {factual[i * k + x] > 0, decision[i] != 0, flipped_decision[x][i] != 0};
  return out;
}

ObservationalTable GeneratedUnits::table() const { return {count, k, factual, decision}; }

GeneratedUnits generate_units(ShiftPredictor& shift, FrozenModels& frozen, const DecideImages& decide, int64_t count,
                              Effect effect, uint64_t seed, int64_t batch) {
  CFGAN_CHECK(count >= 1 && batch >= 1, "generate_units: count and batch must be >= 1");
  check_latent_size(shift.spec(), frozen.gan, frozen.generator_path);
  NoGrad no_grad;
  shift.eval();
  const int64_t k = shift.spec().num_targets(), d = shift.spec().latent_dim;
  const Device device = frozen.device;
  GeneratedUnits u;
  u.count = count;
  u.k = k;
  u.factual.resize(static_cast<size_t>(count * k));
  u.decision.resize(static_cast<size_t>(count));
  u.changed.assign(static_cast<size_t>(k * k), 0);
  for (auto* v : {&u.flipped_decision, &u.took, &u.others_kept})
    v->assign(static_cast<size_t>(k), std::vector<uint8_t>(static_cast<size_t>(count)));

  Generator noise(seed);
  for (int64_t b = 0; b < count; b += batch) {
    const int64_t n = std::min(batch, count - b);
    const Tensor w = Tensor::randn({n, d}, noise, device);
    const Tensor factual = frozen.decode(w);
    const std::vector<int8_t> read = frozen.read_targets(factual);
    std::copy(read.begin(), read.end(), u.factual.begin() + b * k);
    const std::vector<uint8_t> o = decide(factual);
    std::copy(o.begin(), o.end(), u.decision.begin() + b);
    for (int64_t x = 0; x < k; ++x) {
      const Tensor t = flip_targets(x, read, k, effect).to(device);
      const Tensor counterfactual = frozen.decode(w + shift.shift(w, t));
      const std::vector<uint8_t> o_cf = decide(counterfactual);
      const std::vector<int8_t> read_cf = frozen.read_targets(counterfactual);
      for (int64_t i = 0; i < n; ++i) {
        u.flipped_decision[x][b + i] = o_cf[i];
        u.took[x][b + i] = read_cf[i * k + x] == -read[i * k + x];
        bool kept = true;
        for (int64_t j = 0; j < k; ++j) {
          const bool moved = read_cf[i * k + j] != read[i * k + j];
          u.changed[x * k + j] += moved;
          kept = kept && (j == x || !moved);
        }
        u.others_kept[x][b + i] = kept;
      }
    }
  }
  return u;
}

}  // namespace cfgan
