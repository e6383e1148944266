#include "models/gan_trainer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/safetensors.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/regularizers.h"

namespace cfgan {
namespace {

// R1 differentiates D(x) w.r.t. the real batch: a leaf of its own that takes a gradient.
Tensor real_leaf(const Tensor& real) { return real.detach().requires_grad_(true); }

float mean_probability(const Tensor& logits) {
  NoGrad no_grad;
  return mean(sigmoid(logits)).item();
}

}  // namespace

GanTrainer::GanTrainer(const GanTrainConfig& config, const ImageDataset& data)
    : config_(config), loader_(data, config.batch, config.seed, config.device), noise_(config.seed ^ 0x5eedull) {
  config_.spec.validate();
  CFGAN_CHECK(data.channels == config.spec.channels && data.height == config.spec.image_size &&
                  data.width == config.spec.image_size,
              "data ", data.source, " holds ", data.channels, "x", data.height, "x", data.width,
              " images, the model expects ", config.spec.channels, "x", config.spec.image_size, "x",
              config.spec.image_size);
  manual_seed(config.seed);
  Generator init(config.seed);
  g_ = make_generator(config_.spec);
  d_ = make_discriminator(config_.spec);
  dcgan_init(*g_, init);
  if (config_.spec.discriminator == "dcgan") dcgan_init(*d_, init);
  g_->to(config.device);
  d_->to(config.device);
  opt_g_ = std::make_unique<Adam>(g_->named_parameters(),
                                  AdamOptions{.lr = config.lr_g, .beta1 = config.beta1, .beta2 = config.beta2});
  CFGAN_CHECK(config.r1.gamma >= 0.0f && config.r1.every >= 1, "R1: gamma must be >= 0 and the interval >= 1, got ",
              config.r1.gamma, " and ", config.r1.every);
  opt_d_ = std::make_unique<Adam>(
      d_->named_parameters(),
      config.r1.adjust(AdamOptions{.lr = config.lr_d, .beta1 = config.beta1, .beta2 = config.beta2}));
  if (config.ema_decay > 0.0f) {
    g_ema_ = make_generator(config_.spec);
    g_ema_->to(config.device);
    g_ema_->eval();
    ema_ = std::make_unique<Ema>(*g_, *g_ema_, config.ema_decay);
  }
}

AdamOptions R1Regularization::adjust(AdamOptions d) const {
  if (!enabled() || every == 1) return d;
  const float c = static_cast<float>(every) / static_cast<float>(every + 1);
  d.lr *= c;
  d.beta1 = std::pow(d.beta1, c);
  d.beta2 = std::pow(d.beta2, c);
  return d;
}

float r1_update(GanDiscriminator& d, Optimizer& opt_d, const Tensor& real, const std::vector<int32_t>& labels,
                const R1Regularization& r1) {
  opt_d.zero_grad();
  const Tensor x = real_leaf(real);
  const Tensor penalty = r1_penalty(d.score(x, labels), x, r1.gamma);
  (r1.every > 1 ? penalty * static_cast<float>(r1.every) : penalty).backward();
  opt_d.step();
  return penalty.item();
}

GanStepStats gan_train_step(GanGenerator& g, GanDiscriminator& d, Optimizer& opt_g, Optimizer& opt_d, GanLoss loss,
                            const Tensor& real, const Tensor& z, const std::vector<int32_t>& labels,
                            const GanRegularization& reg, const R1Regularization& r1, int64_t d_step) {
  GanStepStats stats;
  Tensor f_g, f_d;
  const bool regularize = reg.enabled();
  stats.r1_applied = r1.due(d_step);
  const bool r1_in_d_loss = stats.r1_applied && r1.every == 1;

  // D: push D(x) up and D(G(z)) down; the generated batch is detached so G is untouched.
  opt_d.zero_grad();
  const int g_block = reg.g_block >= 0 ? reg.g_block : g.default_feature_block();
  const Tensor fake = g.generate(z, labels, {g_block, regularize ? &f_g : nullptr});
  const Tensor real_in = r1_in_d_loss ? real_leaf(real) : real;
  const Tensor real_logits = d.score(real_in, labels);
  const Tensor fake_logits = d.score(fake.detach(), labels);
  const Tensor d_loss = discriminator_loss(loss, real_logits, fake_logits);
  if (r1_in_d_loss) {
    const Tensor penalty = r1_penalty(real_logits, real_in, r1.gamma);
    stats.r1 = penalty.item();
    (d_loss + penalty).backward();
  } else {
    d_loss.backward();
  }
  opt_d.step();

  if (stats.r1_applied && !r1_in_d_loss) stats.r1 = r1_update(d, opt_d, real, labels, r1);

  // G: make the updated D call the same generated batch real.
  opt_g.zero_grad();
  const FrozenParameters frozen_d(d);
  const int d_block = reg.d_block >= 0 ? reg.d_block : d.default_feature_block();
  const Tensor g_logits = d.score(fake, labels, {d_block, regularize ? &f_d : nullptr});
  const Tensor g_loss = generator_loss(loss, g_logits);
  Tensor total = g_loss;
  if (regularize) {
    // Both statistics are logged; only a term that joins G's loss records a graph.
    const auto terms = [](bool in_loss, Tensor (*regularizer)(const Tensor&), const Tensor& a, const Tensor& b) {
      std::optional<NoGrad> no_graph;
      if (!in_loss) no_graph.emplace();
      return std::pair{regularizer(a), regularizer(b)};
    };
    const auto [ur_g, ur_d] = terms(reg.ur_weight > 0.0f, uniformity_regularizer, f_g, f_d);
    const auto [er_g, er_d] = terms(reg.er_weight > 0.0f, entropy_regularizer, f_g, f_d);
    if (reg.ur_weight > 0.0f) total = total + reg.ur_weight * (ur_g + ur_d);
    if (reg.er_weight > 0.0f) total = total + reg.er_weight * (er_g + er_d);
    stats.ur_g = ur_g.item(), stats.ur_d = ur_d.item(), stats.er_g = er_g.item(), stats.er_d = er_d.item();
    stats.log_norm_g = mean_log_norm(f_g), stats.log_norm_d = mean_log_norm(f_d);
  }
  total.backward();
  opt_g.step();

  stats.d_loss = d_loss.item();
  stats.g_loss = g_loss.item();
  stats.d_real = mean_probability(real_logits);
  stats.d_fake = mean_probability(fake_logits);
  return stats;
}

GanStepStats GanTrainer::step() {
  const Batch real = loader_.next();
  const Tensor z = Tensor::randn({config_.batch, config_.spec.z_dim}, noise_, config_.device);
  // Generated images are asked to be of the real batch's classes.
  const std::vector<int32_t> labels = config_.spec.num_classes > 0 ? real.labels : std::vector<int32_t>{};
  const GanStepStats stats =
      gan_train_step(*g_, *d_, *opt_g_, *opt_d_, config_.loss, real.images, z, labels, config_.reg, config_.r1, steps_);
  if (stats.r1_applied) last_r1_ = stats.r1;
  if (ema_) ema_->update(steps_);
  ++steps_;
  return stats;
}

Tensor GanTrainer::sample(const Tensor& z, const std::vector<int32_t>& labels) {
  NoGrad no_grad;
  GanGenerator& g = sampling_generator();
  const bool was_training = g.is_training();
  g.eval();
  Tensor images = g.generate(z, config_.spec.num_classes > 0 ? labels : std::vector<int32_t>{});
  g.train(was_training);
  return images;
}

void GanTrainer::save(const std::string& path) const {
  NamedTensors tensors;
  add_prefixed(tensors, "G.", g_->state_dict());
  add_prefixed(tensors, "D.", d_->state_dict());
  if (g_ema_) add_prefixed(tensors, "G_ema.", g_ema_->state_dict());
  add_prefixed(tensors, "optG.", opt_g_->state_dict());
  add_prefixed(tensors, "optD.", opt_d_->state_dict());
  const Metadata metadata{{kSpecKey, config_.spec.to_json()},
                          {"step", std::to_string(steps_)},
                          {"loader_epoch", std::to_string(loader_.epoch())},
                          {"loader_position", std::to_string(loader_.position())},
                          {"noise_offset", std::to_string(noise_.offset())},
                          {"seed", std::to_string(config_.seed)},
                          {"loss", gan_loss_name(config_.loss)},
                          {"ema", g_ema_ ? "1" : "0"},
                          {"r1_gamma", float_text(config_.r1.gamma)},
                          {"r1_every", std::to_string(config_.r1.every)},
                          {"r1_last", float_text(last_r1_)}};
  save_safetensors(path, tensors, metadata);
}

void GanTrainer::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const GanSpec spec = GanSpec::from_json(metadata_field(file.metadata, kSpecKey, path, "train_gan"));
  CFGAN_CHECK(spec.to_json() == config_.spec.to_json(), path, ": checkpoint model ", spec.to_json(),
              " differs from this run's ", config_.spec.to_json());
  CFGAN_CHECK((metadata_field(file.metadata, "ema", path, "train_gan") == "1") == (g_ema_ != nullptr), path,
              ": checkpoint and run disagree on keeping an EMA generator (--ema-decay)");
  // Checkpoints from before R1 existed carry no R1 fields: they were written without it.
  const auto field = [&](const char* key, const std::string& absent) {
    auto it = file.metadata.find(key);
    return it == file.metadata.end() ? absent : it->second;
  };
  CFGAN_CHECK(field("r1_gamma", float_text(0.0f)) == float_text(config_.r1.gamma) &&
                  (!config_.r1.enabled() || field("r1_every", "") == std::to_string(config_.r1.every)),
              path, ": checkpoint and run disagree on R1 (--r1 ", field("r1_gamma", "0"), " --r1-every ",
              field("r1_every", "-"), " there, --r1 ", float_text(config_.r1.gamma), " --r1-every ", config_.r1.every,
              " here)");
  g_->load_state_dict(file.tensors, "G.");
  d_->load_state_dict(file.tensors, "D.");
  if (g_ema_) g_ema_->load_state_dict(file.tensors, "G_ema.");
  opt_g_->load_state_dict(file.tensors, "optG.");
  opt_d_->load_state_dict(file.tensors, "optD.");
  steps_ = std::stoll(metadata_field(file.metadata, "step", path, "train_gan"));
  loader_.seek(std::stoll(metadata_field(file.metadata, "loader_epoch", path, "train_gan")),
               std::stoll(metadata_field(file.metadata, "loader_position", path, "train_gan")));
  noise_.set_offset(std::stoull(metadata_field(file.metadata, "noise_offset", path, "train_gan")));
  const std::string r1_last = field("r1_last", "0");
  char* end = nullptr;
  last_r1_ = std::strtof(r1_last.c_str(), &end);
  CFGAN_CHECK(end != r1_last.c_str() && *end == '\0', path, ": metadata field r1_last is not a number: '", r1_last,
              "'");
}

std::string sampling_prefix(const Metadata& metadata) {
  auto it = metadata.find("ema");
  return it != metadata.end() && it->second == "1" ? "G_ema." : "G.";
}

LoadedGenerator load_generator(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  LoadedGenerator out;
  out.spec = GanSpec::from_json(metadata_field(file.metadata, kSpecKey, path, "train_gan"));
  out.model = make_generator(out.spec);
  out.model->load_state_dict(file.tensors, sampling_prefix(file.metadata));
  out.model->eval();
  return out;
}

StepScalars GanTrainingJob::step() {
  const GanStepStats s = trainer_.step();
  StepScalars out{{"d_loss", s.d_loss}, {"g_loss", s.g_loss}, {"d_real", s.d_real}, {"d_fake", s.d_fake}};
  if (trainer_.config().reg.enabled())
    out.insert(out.end(), {{"ur_g", s.ur_g},
                           {"ur_d", s.ur_d},
                           {"er_g", s.er_g},
                           {"er_d", s.er_d},
                           {"log_norm_g", s.log_norm_g},
                           {"log_norm_d", s.log_norm_d}});
  if (trainer_.config().r1.enabled()) out.emplace_back("r1", trainer_.last_r1());
  return out;
}

void GanTrainingJob::write_samples(const std::string& path) {
  write_png(path, image_grid(trainer_.sample(z_, labels_), 8));
}

void GanTrainingJob::describe(TrainingLoopOptions& opts) {
  opts.checked = {{"d_loss", "D loss"}, {"g_loss", "G loss"}};
  opts.shown = {{"d_loss", "D", "%.3f"},
                {"g_loss", "G", "%.3f"},
                {"d_real", "D(x)", "%.2f"},
                {"d_fake", "D(G(z))", "%.2f"},
                {"r1", "R1", "%.3g"}};  // shown only by runs that log it
  opts.plotted = {{"d_loss", "D loss"}, {"g_loss", "G loss"}};
}

}  // namespace cfgan
