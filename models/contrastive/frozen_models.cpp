#include "models/contrastive/frozen_models.h"

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "models/gan_trainer.h"

namespace cfgan {

std::vector<int8_t> FrozenModels::read_targets(const Tensor& images) {
  NoGrad no_grad;
  const std::vector<float> logits = target_logits(images).to_host();
  std::vector<int8_t> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] >= 0 ? 1 : -1;
  return out;
}

FrozenModels load_frozen_models(const std::string& generator_path, const std::string& judge_path,
                                const std::vector<std::string>& targets, Device device) {
  FrozenModels m;
  m.generator_path = generator_path;
  m.judge_path = judge_path;
  m.device = device;
  const LoadedGenerator loaded = load_generator(generator_path);
  m.gan = loaded.spec;
  CFGAN_CHECK(m.gan.num_classes == 0, "--generator ", generator_path,
              ": a class-conditional generator; the shift predictor edits unconditional ones");
  m.generator = loaded.model;
  m.generator->to(device);
  m.generator->requires_grad_(false);

  m.judge = load_classifier(judge_path);
  const ClassifierSpec& js = m.judge.model->spec();
  CFGAN_CHECK(js.multi_label, "--classifier ", judge_path,
              ": the attribute classifier needs attribute heads (train_classifier --target attributes)");
  CFGAN_CHECK(js.channels == m.gan.channels && js.image_size == m.gan.image_size, "--classifier ", judge_path,
              ": reads ", js.channels, "x", js.image_size, "x", js.image_size, " images, the generator makes ",
              m.gan.channels, "x", m.gan.image_size, "x", m.gan.image_size);
  for (const std::string& t : targets)
    m.heads.push_back(static_cast<int32_t>(m.judge.output_index(t, "--targets (classifier " + judge_path + ")")));
  m.judge.model->to(device);
  m.judge.model->requires_grad_(false);
  return m;
}

void check_latent_size(const ShiftSpec& shift, const GanSpec& gan, const std::string& generator_path) {
  CFGAN_CHECK(shift.latent_dim == gan.z_dim, "--generator ", generator_path, ": latent size ", gan.z_dim,
              " does not match the shift predictor's ", shift.latent_dim, " (it was trained on another generator)");
}

Tensor flip_targets(int64_t x, const std::vector<int8_t>& read, int64_t k, Effect effect) {
  const size_t n = read.size() / static_cast<size_t>(k);
  std::vector<int8_t> flipped(n);
  for (size_t i = 0; i < n; ++i) flipped[i] = static_cast<int8_t>(-read[i * k + x]);
  return targets_setting(x, flipped, k, effect == Effect::direct ? read : std::vector<int8_t>{});
}

Tensor flip_grid(ShiftPredictor& shift, FrozenModels& frozen, const Tensor& w, Effect effect) {
  NoGrad no_grad;
  const int64_t n = w.dim(0), k = shift.spec().num_targets();
  const Tensor factual = frozen.decode(w);
  const std::vector<int8_t> read = frozen.read_targets(factual);
  std::vector<Tensor> columns{factual};
  for (int64_t x = 0; x < k; ++x) {
    const Tensor t = flip_targets(x, read, k, effect).to(w.device());
    columns.push_back(frozen.decode(w + shift.shift(w, t)));
  }
  // concat puts column after column; a grid wants row after row.
  std::vector<int32_t> order;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c <= k; ++c) order.push_back(static_cast<int32_t>(c * n + i));
  return index_select(concat(columns, 0), 0, order);
}

}  // namespace cfgan
