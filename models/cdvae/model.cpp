#include "models/cdvae/model.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"

namespace cfgan {
GanSpec CdvaeSpec::decoder_spec() const {
  GanSpec g;
  g.image_size = image_size, g.channels = channels, g.width = width;
  g.z_dim = z_dim + num_attributes();
  return g;
}

GanSpec CdvaeSpec::critic_spec() const {
  GanSpec d = decoder_spec();
  d.discriminator = discriminator;
  return d;
}

std::string CdvaeSpec::to_json() const {
  return nlohmann::json{
      {"image_size", image_size},       {"channels", channels},     {"z_dim", z_dim}, {"width", width},
      {"discriminator", discriminator}, {"attributes", attributes}, {"prior", prior}}
      .dump();
}

CdvaeSpec CdvaeSpec::from_json(const std::string& text) {
  CdvaeSpec s;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    s.image_size = j.at("image_size").get<int64_t>();
    s.channels = j.at("channels").get<int64_t>();
    s.z_dim = j.at("z_dim").get<int64_t>();
    s.width = j.at("width").get<int64_t>();
    s.discriminator = j.at("discriminator").get<std::string>();
    s.attributes = j.at("attributes").get<std::vector<std::string>>();
    s.prior = j.at("prior").get<std::vector<float>>();
  } catch (const nlohmann::json::exception& e) {
    fail("CDVAE-GAN description is invalid: ", e.what(), " in ", text);
  }
  s.validate();
  return s;
}

void CdvaeSpec::validate() const {
  CFGAN_CHECK(image_size == 32 || image_size == 64, "--image-size: CDVAE-GAN works at 32 or 64, got ", image_size);
  CFGAN_CHECK(z_dim >= 1, "--z-dim: must be >= 1, got ", z_dim);
  CFGAN_CHECK(!attributes.empty(), "CDVAE-GAN: the data has no attributes to model (give an attribute file)");
  CFGAN_CHECK(prior.size() == attributes.size(), "CDVAE-GAN: ", prior.size(), " prior probabilities for ",
              attributes.size(), " attributes");
  for (size_t k = 0; k < prior.size(); ++k)
    CFGAN_CHECK(prior[k] > 0 && prior[k] < 1, "CDVAE-GAN: the prior of ", attributes[k], " is ", prior[k],
                "; it must lie strictly between 0 and 1");
  critic_spec().validate();
}

int CdvaeSpec::attribute_index(const std::string& name, const std::string& context) const {
  std::string known;
  for (size_t k = 0; k < attributes.size(); ++k) {
    if (attributes[k] == name) return static_cast<int>(k);
    known += (k ? ", " : "") + attributes[k];
  }
  fail(context, ": unknown attribute '", name, "' (the model codes ", known, ")");
}

// 4x4, its channels doubled once per halving after the first.
int64_t CdvaeSpec::feature_dim() const {
  const int64_t halvings = static_cast<int64_t>(std::log2(image_size / 4));  // S -> 4
  return (width << (halvings - 1)) * 16;
}

CdvaeGan::Autoencoder::Autoencoder(const CdvaeSpec& spec)
    : body(make_discriminator(spec.critic_spec())),
      mu(std::make_shared<Linear>(spec.feature_dim(), spec.z_dim)),
      logvar(std::make_shared<Linear>(spec.feature_dim(), spec.z_dim)),
      codes(std::make_shared<Linear>(spec.feature_dim(), spec.num_attributes())),
      decoder(make_generator(spec.decoder_spec())) {
  register_module("encoder", body);
  register_module("mu", mu);
  register_module("logvar", logvar);
  register_module("codes", codes);
  register_module("decoder", decoder);
}

CdvaeGan::CdvaeGan(const CdvaeSpec& spec)
    : spec_(spec), autoencoder_(std::make_shared<Autoencoder>(spec)), critic_(make_discriminator(spec.critic_spec())) {
  spec.validate();
  register_module("autoencoder", autoencoder_);
  register_module("critic", critic_);
}

CdvaeGan::Encoding CdvaeGan::encode(const Tensor& x) {
  CFGAN_CHECK(
      x.ndim() == 4 && x.dim(1) == spec_.channels && x.dim(2) == spec_.image_size && x.dim(3) == spec_.image_size,
      "CDVAE-GAN: expected images (N, ", spec_.channels, ", ", spec_.image_size, ", ", spec_.image_size, "), got ",
      x.shape().str());
  // The body's last block is its feature map; its own real/fake head goes unused.
  GanDiscriminator& body = *autoencoder_->body;
  Tensor features;
  body.score(x, {}, {body.num_blocks() - 1, &features});
  features = flatten(features, 1);
  return {autoencoder_->mu->forward(features), autoencoder_->logvar->forward(features),
          autoencoder_->codes->forward(features)};
}

Tensor CdvaeGan::decode(const Tensor& z, const Tensor& codes) {
  CFGAN_CHECK(codes.ndim() == 2 && codes.dim(1) == spec_.num_attributes() && z.ndim() == 2 &&
                  z.dim(0) == codes.dim(0) && z.dim(1) == spec_.z_dim,
              "CDVAE-GAN decode: expected z (N, ", spec_.z_dim, ") and codes (N, ", spec_.num_attributes(), "), got ",
              z.shape().str(), " and ", codes.shape().str());
  return autoencoder_->decoder->generate(concat({z, affine(codes, 2.0f, -1.0f)}, 1), {});
}

Tensor CdvaeGan::counterfactual(const Tensor& x, const std::vector<int>& flip) {
  NoGrad no_grad;
  const bool was_training = is_training();
  eval();
  const Encoding e = encode(x);
  std::vector<float> codes = e.logits.to_host();
  const int64_t k_count = spec_.num_attributes();
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = codes[i] > 0 ? 1.0f : 0.0f;
  for (int k : flip) {
    CFGAN_CHECK(k >= 0 && k < k_count, "CDVAE-GAN: attribute index ", k, " outside 0..", k_count - 1);
    for (int64_t n = 0; n < e.logits.dim(0); ++n) codes[n * k_count + k] = 1.0f - codes[n * k_count + k];
  }
  Tensor images = decode(e.mu, Tensor::from_host(e.logits.shape(), codes, x.device()));
  train(was_training);
  return images;
}

std::shared_ptr<CdvaeGan> load_cdvae(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  auto model = std::make_shared<CdvaeGan>(
      CdvaeSpec::from_json(metadata_field(file.metadata, kCdvaeSpecKey, path, "train_cdvae")));
  model->load_state_dict(file.tensors, "model.");
  // A run that kept an EMA of E and G draws its counterfactuals from it.
  const auto ema = file.metadata.find("ema");
  if (ema != file.metadata.end() && ema->second == "1") model->autoencoder().load_state_dict(file.tensors, "ema.");
  model->eval();
  return model;
}

}  // namespace cfgan
