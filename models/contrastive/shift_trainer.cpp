#include "models/contrastive/shift_trainer.h"

#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/safetensors.h"
#include "engine/nn/init.h"
#include "engine/ops.h"

namespace cfgan {
namespace {

constexpr const char* kWriter = "train_shift";

}  // namespace

ShiftStepStats shift_train_step(ShiftPredictor& shift, Optimizer& opt,
                                const std::function<Tensor(const Tensor& w)>& target_logits, const Tensor& z,
                                const Tensor& t, float faithfulness) {
  const std::vector<float> t_host = t.to_host();
  int64_t asked = 0;
  for (float v : t_host) asked += v != 0.0f;
  CFGAN_CHECK(asked > 0, "shift_train_step: the targets ask for nothing (all zero)");

  opt.zero_grad();
  const Tensor dw = shift.shift(z, t);
  const Tensor logits = target_logits(z + dw);
  // BCE-with-logits per entry, softplus(l) - y l, kept only where t != 0 (mask t^2) and averaged
  // over those entries: a "don't care" target pulls the edit nowhere.
  const Tensor wanted = affine(t, 0.5f, 0.5f), mask = square(t);
  const Tensor bce = sum((softplus(logits) - wanted * logits) * mask) * (1.0f / static_cast<float>(asked));
  const Tensor shift_norm = mean(sqrt(sum(square(dw), {1})));
  const Tensor loss = bce + faithfulness * shift_norm;
  loss.backward();
  opt.step();

  const std::vector<float> l = logits.to_host();
  int64_t hits = 0;
  for (size_t i = 0; i < l.size(); ++i) hits += t_host[i] != 0.0f && (l[i] >= 0.0f) == (t_host[i] > 0.0f);
  return {loss.item(), bce.item(), shift_norm.item(), static_cast<float>(hits) / static_cast<float>(asked)};
}

ShiftTrainer::ShiftTrainer(const ShiftTrainConfig& config, FrozenModels& frozen)
    : config_(config), frozen_(frozen), noise_(config.seed ^ 0x5eedull), dropout_noise_(config.seed ^ 0xd209ull) {
  config_.spec.validate();
  check_latent_size(config_.spec, frozen.gan, frozen.generator_path);
  CFGAN_CHECK(config.batch >= 1, "--batch: must be >= 1, got ", config.batch);
  CFGAN_CHECK(config.lr > 0 && config.faithfulness >= 0 && config.spread >= 0,
              "--lr must be > 0, --faithfulness and --spread >= 0");
  manual_seed(config.seed);
  shift_ = std::make_shared<ShiftPredictor>(config_.spec, dropout_noise_);
  shift_->to(config.device);
  opt_ = std::make_unique<Adam>(shift_->named_parameters(),
                                AdamOptions{.lr = config.lr, .beta1 = config.beta1, .beta2 = config.beta2});
  Generator shown_noise(config.seed ^ 0x5a3bull);
  shown_ = Tensor::randn({8, config_.spec.latent_dim}, shown_noise, config.device);
}

StepScalars ShiftTrainer::step() {
  const int64_t d = config_.spec.latent_dim, k = config_.spec.num_targets();
  const Tensor z0 = Tensor::randn({1, d}, noise_, config_.device);
  const Tensor z = z0 + config_.spread * Tensor::randn({config_.batch, d}, noise_, config_.device);
  const Tensor t = draw_targets(config_.batch, k, noise_, config_.device);
  shift_->train();
  const ShiftStepStats s = shift_train_step(
      *shift_, *opt_, [this](const Tensor& w) { return frozen_.target_logits(frozen_.decode(w)); }, z, t,
      config_.faithfulness);
  ++steps_;
  return {{"loss", s.loss}, {"bce", s.bce}, {"shift_norm", s.shift_norm}, {"hit_rate", s.hit_rate}};
}

void ShiftTrainer::save(const std::string& path) {
  NamedTensors tensors;
  add_prefixed(tensors, "S.", shift_->state_dict());
  add_prefixed(tensors, "optS.", opt_->state_dict());
  save_safetensors(path, tensors,
                   {{kShiftSpecKey, config_.spec.to_json()},
                    {"generator", frozen_.generator_path},
                    {"judge", frozen_.judge_path},
                    {"step", std::to_string(steps_)},
                    {"noise_offset", std::to_string(noise_.offset())},
                    {"dropout_offset", std::to_string(dropout_noise_.offset())},
                    {"seed", std::to_string(config_.seed)}});
}

void ShiftTrainer::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const ShiftSpec spec = ShiftSpec::from_json(metadata_field(file.metadata, kShiftSpecKey, path, kWriter));
  CFGAN_CHECK(spec.to_json() == config_.spec.to_json(), path, ": checkpoint model ", spec.to_json(),
              " differs from this run's ", config_.spec.to_json());
  // S is only meaningful against the networks it was trained with (a run directory given as
  // --generator resolves to its newest checkpoint, which may have moved on since).
  for (const auto& [key, now] : {std::pair{"generator", frozen_.generator_path}, {"judge", frozen_.judge_path}}) {
    const std::string& then = metadata_field(file.metadata, key, path, kWriter);
    CFGAN_CHECK(then == now, path, ": S was trained against the ", key, " ", then, ", this run loads ", now);
  }
  shift_->load_state_dict(file.tensors, "S.");
  opt_->load_state_dict(file.tensors, "optS.");
  steps_ = std::stoll(metadata_field(file.metadata, "step", path, kWriter));
  noise_.set_offset(std::stoull(metadata_field(file.metadata, "noise_offset", path, kWriter)));
  dropout_noise_.set_offset(std::stoull(metadata_field(file.metadata, "dropout_offset", path, kWriter)));
}

void ShiftTrainer::write_samples(const std::string& path) {
  shift_->eval();
  write_png(path, image_grid(flip_grid(*shift_, frozen_, shown_), 1 + config_.spec.num_targets()));
  shift_->train();
}

void ShiftTrainer::describe(TrainingLoopOptions& opts) {
  opts.checked = {{"loss", "shift loss"}};
  opts.shown = {{"bce", "BCE", "%.3f"}, {"shift_norm", "|dw|", "%.3f"}, {"hit_rate", "hit", "%.2f"}};
  opts.plotted = {{"bce", "attribute BCE (targeted entries)"}, {"shift_norm", "mean |dw|"}};
}

LoadedShift load_shift(const std::string& path, Device device) {
  const SafetensorsFile file = load_safetensors(path);
  const ShiftSpec spec = ShiftSpec::from_json(metadata_field(file.metadata, kShiftSpecKey, path, kWriter));
  LoadedShift out;
  out.dropout_noise = std::make_unique<Generator>(0);
  out.predictor = std::make_shared<ShiftPredictor>(spec, *out.dropout_noise);
  out.predictor->load_state_dict(file.tensors, "S.");
  out.predictor->to(device);
  out.predictor->eval();
  out.predictor->requires_grad_(false);
  out.generator_path = metadata_field(file.metadata, "generator", path, kWriter);
  out.judge_path = metadata_field(file.metadata, "judge", path, kWriter);
  return out;
}

}  // namespace cfgan
