#include "models/cdvae/trainer.h"

#include <cmath>
#include <numeric>
#include <optional>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/safetensors.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/cdvae/latent.h"
#include "models/classifier.h"
#include "models/gan_loss.h"

namespace cfgan {

CdvaeTrainer::CdvaeTrainer(const CdvaeConfig& config, const ImageDataset& data)
    : config_(config), loader_(data, config.batch, config.seed, config.device), noise_(config.seed ^ 0x5eedull) {
  config_.spec.validate();
  CFGAN_CHECK(data.attribute_names == config.spec.attributes, "data ", data.source,
              ": its attributes are not the model's (", config.spec.to_json(), ")");
  CFGAN_CHECK(data.channels == config.spec.channels && data.height == config.spec.image_size, "data ", data.source,
              " holds ", data.channels, "x", data.height, "x", data.width, " images, the model makes ",
              config.spec.channels, "x", config.spec.image_size, "x", config.spec.image_size);
  CFGAN_CHECK(config.batch >= 2 && config.batch <= data.count, "--batch: expected 2..", data.count,
              " (the images there are), got ", config.batch);
  CFGAN_CHECK(config.tau_start > 0 && config.tau_end > 0 && config.tau_steps >= 1,
              "--tau, --tau-end must be > 0 and --tau-steps >= 1");
  CFGAN_CHECK(config.ema_decay >= 0.0f && config.ema_decay < 1.0f,
              "--ema-decay: expected 0 (off) or a value in (0, 1), got ", config.ema_decay);
  CFGAN_CHECK(config.weights.flip >= 0.0f, "--flip: expected a weight >= 0, got ", config.weights.flip);
  CFGAN_CHECK(config.weights.latent >= 0.0f, "--latent-adv: expected a weight >= 0, got ", config.weights.latent);
  CFGAN_CHECK(config.weights.flip_adv >= 0.0f && (config.weights.flip_adv == 0.0f || config.weights.flip > 0.0f),
              "--flip-adv: expected a weight >= 0, and 0 unless --flip is on (it is part of the flip term); got ",
              config.weights.flip_adv, " with --flip ", config.weights.flip);
  CFGAN_CHECK(config.weights.critic_attr >= 0.0f, "--critic-attr: expected a weight >= 0, got ",
              config.weights.critic_attr);
  const bool flip_critic_read = config.weights.flip > 0.0f && config.weights.critic_attr > 0.0f;
  CFGAN_CHECK(config.weights.flip_critic >= 0.0f && (config.weights.flip_critic == 0.0f || flip_critic_read),
              "--flip-critic: expected a weight >= 0, and 0 unless --flip and --critic-attr are on (it is read by the ",
              "critic's attribute head); got ", config.weights.flip_critic, " with --flip ", config.weights.flip,
              " --critic-attr ", config.weights.critic_attr);
  manual_seed(config.seed);
  Generator init(config.seed);
  model_ = std::make_shared<CdvaeGan>(config_.spec);
  dcgan_init(*model_, init);
  model_->to(config.device);
  const AdamOptions adam{.lr = config.lr, .beta1 = config.beta1, .beta2 = config.beta2};
  opt_eg_ = std::make_unique<Adam>(model_->autoencoder().named_parameters(), adam);
  opt_d_ = std::make_unique<Adam>(model_->critic().named_parameters(), adam);
  // The head first: its initial weights do not depend on whether the latent adversary is on.
  if (config.weights.critic_attr > 0.0f) {
    critic_attr_ = std::make_shared<Linear>(config_.spec.feature_dim(), config_.spec.num_attributes());
    critic_attr_->to(config.device);
    opt_critic_attr_ = std::make_unique<Adam>(critic_attr_->named_parameters(), adam);
  }
  if (config.weights.latent > 0.0f) {
    const int64_t hidden = 4 * config_.spec.z_dim;
    latent_critic_ = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Linear>(config_.spec.z_dim, hidden), LeakyReLU(0.2f),
        std::make_shared<Linear>(hidden, config_.spec.num_attributes())});
    latent_critic_->to(config.device);
    opt_latent_ = std::make_unique<Adam>(latent_critic_->named_parameters(), adam);
  }
  if (config.ema_decay > 0.0f) {
    ema_model_ = std::make_shared<CdvaeGan>(config_.spec);
    ema_model_->to(config.device);
    ema_model_->eval();
    ema_ = std::make_unique<Ema>(model_->autoencoder(), ema_model_->autoencoder(), config.ema_decay);
  }
  prior_ = Tensor::from_host({config_.spec.num_attributes()}, config_.spec.prior, config.device);
  shown_ = image_batch(data, 0, std::min<int64_t>(8, data.count)).to(config.device);
}

float CdvaeTrainer::temperature() const {
  const double t = std::min(1.0, static_cast<double>(steps_) / static_cast<double>(config_.tau_steps));
  return static_cast<float>(config_.tau_start * std::pow(config_.tau_end / config_.tau_start, t));
}

StepScalars CdvaeTrainer::step() {
  const Batch b = loader_.next();
  return step_on(b, draw_noise(b.images.dim(0)));
}

CdvaeNoise CdvaeTrainer::draw_noise(int64_t n) {
  const int64_t k = config_.spec.num_attributes(), z = config_.spec.z_dim;
  const Device d = config_.device;
  CdvaeNoise noise;
  noise.eps = Tensor::randn({n, z}, noise_, d);
  if (!config_.label_codes) noise.concrete = concrete_uniforms({n, k}, noise_, d);
  noise.prior_u = Tensor::rand({n, k}, noise_, d);
  noise.prior_z = Tensor::randn({n, z}, noise_, d);
  if (config_.weights.flip > 0.0f) noise.flip_u = Tensor::rand({n}, noise_, d);
  return noise;
}

StepScalars CdvaeTrainer::step_on(const Batch& b, const CdvaeNoise& noise) {
  const Tensor& x = b.images;
  const int64_t k = config_.spec.num_attributes();
  CdvaeGan& m = *model_;
  GanDiscriminator& d = m.critic();
  const CdvaeWeights& w = config_.weights;

  const CdvaeGan::Encoding e = m.encode(x);
  const Tensor z = gaussian_sample(e.mu, e.logvar, noise.eps);
  const Tensor codes =
      config_.label_codes ? b.attributes : binary_concrete(e.logits, temperature(), config_.hard, noise.concrete);
  const Tensor x_rec = m.decode(z, codes);
  Tensor prior_codes;
  {
    NoGrad no_grad;  // a ~ Bernoulli(prior): 1[u < p]
    prior_codes = clamp((reshape(prior_, {1, k}) - noise.prior_u) * 1e30f, 0.0f, 1.0f);
  }
  Tensor x_prior;
  {
    // Eval mode (counterfactuals) decodes posterior codes; prior draws, which only the
    // adversarial term shapes, would skew the decoder's running statistics away from them.
    const KeptBuffers posterior_statistics(m.decoder());
    x_prior = m.decode(noise.prior_z, prior_codes);
  }

  // Critic: real images against reconstructions and prior samples; with its attribute head,
  // the real images' attributes too.
  opt_d_->zero_grad();
  Tensor real_logits, critic_attr;
  if (critic_attr_) {
    opt_critic_attr_->zero_grad();
    critic_attr = bce_with_logits(critic_attributes(x, &real_logits), b.attributes);
  } else {
    real_logits = d.score(x, {});
  }
  const Tensor d_loss = 0.5f * (discriminator_loss(GanLoss::bce, real_logits, d.score(x_rec.detach(), {})) +
                                discriminator_loss(GanLoss::bce, real_logits, d.score(x_prior.detach(), {})));
  (critic_attr_ ? d_loss + w.critic_attr * critic_attr : d_loss).backward();
  opt_d_->step();
  if (critic_attr_) opt_critic_attr_->step();

  // Encoder and decoder, the critic frozen.
  opt_eg_->zero_grad();
  const FrozenParameters frozen(d);
  Tensor real_features, rec_features;
  {
    NoGrad no_grad;
    d.score(x, {}, {config_.rec_block, &real_features});
  }
  const Tensor rec_logits = d.score(x_rec, {}, {config_.rec_block, &rec_features});
  const Tensor rec = mse_loss(rec_features, real_features);
  const Tensor adv =
      0.5f * (generator_loss(GanLoss::bce, rec_logits) + generator_loss(GanLoss::bce, d.score(x_prior, {})));
  const Tensor kl_z = gaussian_kl(e.mu, e.logvar), kl_a = bernoulli_kl(e.logits, prior_);
  const Tensor sup = bce_with_logits(e.logits, b.attributes);
  const Tensor l1 = l1_loss(x_rec, x);
  Tensor total = w.kl_z * kl_z + w.kl_a * kl_a + w.sup * sup + w.rec * rec + w.l1 * l1 + w.adv * adv;
  float latent_read = 0.0f, latent_hidden = 0.0f;
  if (latent_critic_) {
    latent_read = latent_critic_step(e.mu, b.attributes);
    const FrozenParameters frozen_c(*latent_critic_);
    Tensor prior_rows;
    {
      NoGrad no_grad;
      prior_rows = 0.0f * b.attributes + reshape(prior_, {1, k});
    }
    const Tensor hidden = bce_with_logits(latent_critic_->forward(e.mu), prior_rows);
    total = total + w.latent * hidden;
    latent_hidden = hidden.item();
  }
  total.backward();
  const FlipLosses flip = w.flip > 0.0f ? flip_step(z.detach(), b.attributes, noise.flip_u) : FlipLosses{};
  opt_eg_->step();
  if (ema_) ema_->update(steps_);
  ++steps_;
  return {{"d_loss", d_loss.item()},
          {"eg_loss", total.item() + w.flip * flip.codes + w.flip_adv * flip.adv + w.flip_critic * flip.critic},
          {"rec", rec.item()},
          {"l1", l1.item()},
          {"kl_z", kl_z.item()},
          {"kl_a", kl_a.item()},
          {"sup", sup.item()},
          {"adv", adv.item()},
          {"flip", flip.codes},
          {"flip_adv", flip.adv},
          {"critic_attr", critic_attr_ ? critic_attr.item() : 0.0f},
          {"flip_critic", flip.critic},
          {"latent_read", latent_read},
          {"latent_hidden", latent_hidden},
          {"tau", temperature()}};
}

Tensor CdvaeTrainer::critic_attributes(const Tensor& images, Tensor* logits) {
  GanDiscriminator& d = model_->critic();
  Tensor features;
  const Tensor real_fake = d.score(images, {}, {d.num_blocks() - 1, &features});
  if (logits) *logits = real_fake;
  return critic_attr_->forward(flatten(features, 1));
}

CdvaeTrainer::FlipLosses CdvaeTrainer::flip_step(const Tensor& z, const Tensor& labels, const Tensor& flip_u) {
  const int64_t n = labels.dim(0), k = labels.dim(1);
  Tensor flipped;
  {
    NoGrad no_grad;  // one attribute per image, uniform: y + m - 2 y m inverts where m = 1
    const std::vector<float> u = flip_u.to_host();
    std::vector<float> mask(static_cast<size_t>(n * k), 0.0f);
    for (int64_t i = 0; i < n; ++i) mask[i * k + std::min<int64_t>(k - 1, static_cast<int64_t>(u[i] * k))] = 1.0f;
    const Tensor m = Tensor::from_host({n, k}, mask, labels.device());
    flipped = labels + m - 2.0f * labels * m;
  }
  CdvaeGan& model = *model_;
  const FrozenParameters frozen_body(model.encoder_body()), frozen_head(model.code_head());
  const KeptBuffers real_statistics(model.encoder_body());  // E reads generated images here
  const Tensor x_flip = model.decode(z, flipped);
  const Tensor codes = bce_with_logits(model.encode(x_flip).logits, flipped);
  const CdvaeWeights& w = config_.weights;
  Tensor total = w.flip * codes;
  FlipLosses losses;
  // Frozen until the backward below, which is when a gradient would be taken.
  std::optional<FrozenParameters> frozen_attr;
  if (w.flip_critic > 0.0f) frozen_attr.emplace(*critic_attr_);
  if (w.flip_adv > 0.0f || w.flip_critic > 0.0f) {
    const KeptBuffers critic_statistics(model.critic());  // the critic is frozen by step_on
    Tensor logits;
    if (w.flip_critic > 0.0f) {
      const Tensor read = bce_with_logits(critic_attributes(x_flip, &logits), flipped);
      total = total + w.flip_critic * read;
      losses.critic = read.item();
    } else {
      logits = model.critic().score(x_flip, {});
    }
    if (w.flip_adv > 0.0f) {
      const Tensor loss = generator_loss(GanLoss::bce, logits);
      total = total + w.flip_adv * loss;
      losses.adv = loss.item();
    }
  }
  total.backward();
  losses.codes = codes.item();
  return losses;
}

float CdvaeTrainer::latent_critic_step(const Tensor& mu, const Tensor& labels) {
  opt_latent_->zero_grad();
  const Tensor loss = bce_with_logits(latent_critic_->forward(mu.detach()), labels);
  loss.backward();
  opt_latent_->step();
  return loss.item();
}

void CdvaeTrainer::save(const std::string& path) {
  NamedTensors tensors;
  add_prefixed(tensors, "model.", model_->state_dict());
  add_prefixed(tensors, "optEG.", opt_eg_->state_dict());
  add_prefixed(tensors, "optD.", opt_d_->state_dict());
  if (ema_model_) add_prefixed(tensors, "ema.", ema_model_->autoencoder().state_dict());
  if (latent_critic_) {
    add_prefixed(tensors, "latent.", latent_critic_->state_dict());
    add_prefixed(tensors, "optLatent.", opt_latent_->state_dict());
  }
  if (critic_attr_) {
    add_prefixed(tensors, "criticAttr.", critic_attr_->state_dict());
    add_prefixed(tensors, "optCriticAttr.", opt_critic_attr_->state_dict());
  }
  save_safetensors(path, tensors,
                   {{kCdvaeSpecKey, config_.spec.to_json()},
                    {"step", std::to_string(steps_)},
                    {"loader_epoch", std::to_string(loader_.epoch())},
                    {"loader_position", std::to_string(loader_.position())},
                    {"noise_offset", std::to_string(noise_.offset())},
                    {"seed", std::to_string(config_.seed)},
                    {"ema", ema_model_ ? "1" : "0"},
                    {"flip", float_text(config_.weights.flip)},
                    {"flip_adv", float_text(config_.weights.flip_adv)},
                    {"latent_adv", float_text(config_.weights.latent)},
                    {"critic_attr", float_text(config_.weights.critic_attr)},
                    {"flip_critic", float_text(config_.weights.flip_critic)}});
}

void CdvaeTrainer::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const CdvaeSpec spec = CdvaeSpec::from_json(metadata_field(file.metadata, kCdvaeSpecKey, path, "train_cdvae"));
  CFGAN_CHECK(spec.to_json() == config_.spec.to_json(), path, ": checkpoint model ", spec.to_json(),
              " differs from this run's ", config_.spec.to_json());
  model_->load_state_dict(file.tensors, "model.");
  opt_eg_->load_state_dict(file.tensors, "optEG.");
  opt_d_->load_state_dict(file.tensors, "optD.");
  const auto ema = file.metadata.find("ema");
  CFGAN_CHECK((ema != file.metadata.end() && ema->second == "1") == (ema_model_ != nullptr), path,
              ": checkpoint and run disagree on keeping an EMA of E and G (--ema-decay)");
  if (ema_model_) ema_model_->autoencoder().load_state_dict(file.tensors, "ema.");
  // The flip term and its adversarial part change the objective and what each step draws
  // (checkpoints written before a weight was recorded carry no value to compare).
  // `absent`: the weight a checkpoint written before the term existed had (null: not checked).
  const auto same_weight = [&](const char* key, const char* term, const char* flag, float here,
                               const char* absent = nullptr) {
    const auto found = file.metadata.find(key);
    if (found == file.metadata.end() && !absent) return;
    const std::string there = found == file.metadata.end() ? absent : found->second;
    CFGAN_CHECK(there == float_text(here), path, ": checkpoint and run disagree on ", term, " (", flag, " ", there,
                " there, ", float_text(here), " here)");
  };
  same_weight("flip", "the flip term", "--flip", config_.weights.flip);
  same_weight("flip_adv", "the flipped decodes' adversarial term", "--flip-adv", config_.weights.flip_adv);
  same_weight("latent_adv", "the latent adversary", "--latent-adv", config_.weights.latent);
  same_weight("critic_attr", "the critic's attribute head", "--critic-attr", config_.weights.critic_attr, "0");
  same_weight("flip_critic", "the flips read by the critic's attribute head", "--flip-critic",
              config_.weights.flip_critic, "0");
  if (latent_critic_) {
    latent_critic_->load_state_dict(file.tensors, "latent.");
    opt_latent_->load_state_dict(file.tensors, "optLatent.");
  }
  if (critic_attr_) {
    critic_attr_->load_state_dict(file.tensors, "criticAttr.");
    opt_critic_attr_->load_state_dict(file.tensors, "optCriticAttr.");
  }
  steps_ = std::stoll(metadata_field(file.metadata, "step", path, "train_cdvae"));
  loader_.seek(std::stoll(metadata_field(file.metadata, "loader_epoch", path, "train_cdvae")),
               std::stoll(metadata_field(file.metadata, "loader_position", path, "train_cdvae")));
  noise_.set_offset(std::stoull(metadata_field(file.metadata, "noise_offset", path, "train_cdvae")));
}

void CdvaeTrainer::write_samples(const std::string& path) {
  std::vector<int> every(static_cast<size_t>(config_.spec.num_attributes()));
  std::iota(every.begin(), every.end(), 0);
  write_png(path, image_grid(counterfactual_grid(sampling_model(), shown_, every), 2 + config_.spec.num_attributes()));
}

void CdvaeTrainer::describe(TrainingLoopOptions& opts) const {
  opts.checked = {{"d_loss", "critic loss"}, {"eg_loss", "encoder/decoder loss"}};
  opts.shown = {{"d_loss", "D", "%.3f"}, {"rec", "rec", "%.3f"}, {"l1", "L1", "%.3f"}, {"sup", "attr", "%.3f"}};
  const CdvaeWeights& w = config_.weights;
  if (w.flip > 0.0f) opts.shown.push_back({"flip", "flip", "%.3f"});
  if (w.flip_adv > 0.0f) opts.shown.push_back({"flip_adv", "flip adv", "%.2f"});
  if (w.critic_attr > 0.0f) opts.shown.push_back({"critic_attr", "D attr", "%.3f"});
  if (w.flip_critic > 0.0f) opts.shown.push_back({"flip_critic", "flip D", "%.3f"});
  opts.shown.push_back({"kl_z", "KL", "%.2f"});
  if (w.latent > 0.0f) opts.shown.push_back({"latent_read", "z->attr", "%.3f"});
  opts.shown.push_back({"tau", "tau", "%.2f"});
  opts.plotted = {
      {"d_loss", "critic"}, {"rec", "feature reconstruction"}, {"l1", "pixel L1"}, {"sup", "attribute BCE"}};
}

Tensor counterfactual_grid(CdvaeGan& model, const Tensor& images, const std::vector<int>& flips) {
  const int64_t n = images.dim(0), cols = 2 + static_cast<int64_t>(flips.size());
  std::vector<Tensor> columns{images.detach(), model.counterfactual(images, {})};
  for (int a : flips) columns.push_back(model.counterfactual(images, {a}));
  // concat puts column after column; the grid wants row after row.
  std::vector<int32_t> order;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < cols; ++c) order.push_back(static_cast<int32_t>(c * n + i));
  NoGrad no_grad;
  return index_select(concat(columns, 0), 0, order);
}

}  // namespace cfgan
