// GAN generators and discriminators: the reference DCGAN for 28x28 images, the DCGAN
// family for 32 and 64 px, an SNGAN-style discriminator (spectral norm, no batch norm),
// and class-conditional variants (G: label embedding joined to z; D: projection).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/random.h"

namespace cfgan {

struct GanSpec {
  std::string discriminator = "dcgan";  // "dcgan" (batch norm) or "sngan" (spectral norm)
  int64_t image_size = 28;              // 28 (reference DCGAN), 32 or 64
  int64_t channels = 1;                 // 1 or 3
  int64_t z_dim = 100;
  int64_t width = 64;       // channels of the widest-resolution feature map
  int64_t num_classes = 0;  // > 0: class-conditional G and D

  std::string to_json() const;
  static GanSpec from_json(const std::string& text);  // errors name the bad field
  void validate() const;
};

// Asks a forward pass for the feature map that block `block` outputs (the information
// regularizers read them); no request when `out` is null.
struct FeatureTap {
  int block = 0;
  Tensor* out = nullptr;
};

class GanGenerator : public Module {
 public:
  // z (N, z_dim), labels (N) when conditional (else empty) -> images (N, C, S, S) in [-1, 1].
  Tensor generate(const Tensor& z, const std::vector<int32_t>& labels = {}, FeatureTap tap = {}) {
    return decode(configuration(z, labels), tap);
  }
  // The configuration the image is decoded from: z, joined to the label's embedding when
  // conditional -> (N, configuration_dim()). Inverting G and walking between images move it.
  virtual Tensor configuration(const Tensor& z, const std::vector<int32_t>& labels) = 0;
  virtual Tensor decode(const Tensor& configuration, FeatureTap tap = {}) = 0;
  virtual int64_t configuration_dim() const = 0;
  virtual int64_t z_dim() const = 0;  // the configuration's first columns
  virtual int num_blocks() const = 0;
  // The block producing the half-resolution map before the to-image block (14x14 for
  // the 28 px model, 32x32 for 64 px): the regularizers' default generator features.
  int default_feature_block() const { return num_blocks() - 2; }
};

class GanDiscriminator : public Module {
 public:
  // images (N, C, S, S), labels as for the generator -> logits (N).
  virtual Tensor score(const Tensor& images, const std::vector<int32_t>& labels, FeatureTap tap = {}) = 0;
  virtual int num_blocks() const = 0;
  // Block 1 halves the first feature map (14x14 -> 7x7 at 28 px, 32x32 -> 16x16 at 64 px).
  int default_feature_block() const { return 1; }
};

std::shared_ptr<GanGenerator> make_generator(const GanSpec& spec);
std::shared_ptr<GanDiscriminator> make_discriminator(const GanSpec& spec);

// DCGAN initialization (Radford et al.): conv / transposed-conv weights N(0, 0.02),
// batch-norm weights N(1, 0.02) and biases 0. Linear layers keep their default.
void dcgan_init(Module& model, Generator& gen);

}  // namespace cfgan
