// CDVAE-GAN: a VAE-GAN whose latent code has two parts, a Gaussian z for everything else and
// one Bernoulli code per binary attribute, so an image's counterfactual is: encode, flip an
// attribute's code, decode.
//
//   encoder  E(x)    = the DCGAN discriminator body's features -> mu, log sigma^2 (z_dim) and
//                      attribute logits (K)
//   decoder  G(z, a) = a DCGAN generator fed [z, 2a - 1] (a in [0, 1]^K)
//   critic   D(x)    = a DCGAN / SNGAN discriminator; one of its blocks' features is the
//                      learned reconstruction similarity (Larsen et al. 2016)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "models/gan.h"

namespace cfgan {

struct CdvaeSpec {
  int64_t image_size = 32, channels = 3;
  int64_t z_dim = 32;
  int64_t width = 32;  // the DCGAN width of E, G and D
  std::string discriminator = "dcgan";
  std::vector<std::string> attributes;  // K code names
  std::vector<float> prior;             // K: P(a_k = 1), the codes' prior (training-set frequencies)

  GanSpec decoder_spec() const;  // z_dim + K inputs
  GanSpec critic_spec() const;   // also the encoder body's
  int64_t feature_dim() const;   // the critic body's last feature map, flattened
  std::string to_json() const;
  static CdvaeSpec from_json(const std::string& text);  // errors name the bad field
  void validate() const;
  int64_t num_attributes() const { return static_cast<int64_t>(attributes.size()); }
  int attribute_index(const std::string& name, const std::string& context) const;
};

class CdvaeGan : public Module {
 public:
  explicit CdvaeGan(const CdvaeSpec& spec);

  struct Encoding {
    Tensor mu, logvar, logits;  // (N, z_dim), (N, z_dim), (N, K)
  };
  Encoding encode(const Tensor& x);
  // codes (N, K) in [0, 1] (relaxed or hard) -> images (N, C, S, S) in [-1, 1].
  Tensor decode(const Tensor& z, const Tensor& codes);
  // In eval mode, no graph: z = mu, codes = 1[logit > 0] with the attributes `flip`
  // inverted; `flip` empty gives the reconstruction.
  Tensor counterfactual(const Tensor& x, const std::vector<int>& flip);

  const CdvaeSpec& spec() const { return spec_; }
  Module& autoencoder() { return *autoencoder_; }  // E and G: what one optimizer trains
  // The modules reading attributes off an image: E's body and its code head.
  Module& encoder_body() { return *autoencoder_->body; }
  Module& code_head() { return *autoencoder_->codes; }
  Module& decoder() { return *autoencoder_->decoder; }  // G
  GanDiscriminator& critic() { return *critic_; }

 private:
  // E's body and heads and G, registered under one module.
  class Autoencoder : public Module {
   public:
    explicit Autoencoder(const CdvaeSpec& spec);
    std::shared_ptr<GanDiscriminator> body;
    std::shared_ptr<Linear> mu, logvar, codes;
    std::shared_ptr<GanGenerator> decoder;
  };
  CdvaeSpec spec_;
  std::shared_ptr<Autoencoder> autoencoder_;
  std::shared_ptr<GanDiscriminator> critic_;
};

// The metadata key of a train_cdvae checkpoint's spec.
inline constexpr const char* kCdvaeSpecKey = "cdvae_spec";

// The model of a train_cdvae checkpoint, in eval mode, with the EMA of E and G when the run
// kept one; errors name the file.
std::shared_ptr<CdvaeGan> load_cdvae(const std::string& path);

}  // namespace cfgan
