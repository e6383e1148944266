// The DCGAN family. Generators and discriminators are lists of blocks, so a feature
// map can be read at any block boundary (the information regularizers use them).
#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops.h"
#include "models/gan.h"

namespace cfgan {
namespace {

constexpr int64_t kLabelEmbedding = 32;  // width of the generator's label code

using ModulePtr = std::shared_ptr<Module>;

std::shared_ptr<Sequential> block(std::vector<ModulePtr> layers) {
  return std::make_shared<Sequential>(std::move(layers));
}

ModulePtr conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, bool bias, bool spectral) {
  auto layer = std::make_shared<Conv2d>(in, out, kernel, Conv2dOptions{.stride = stride, .padding = pad}, bias);
  if (spectral) return std::make_shared<SpectralNorm>(layer);
  return layer;
}

ModulePtr conv_t(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, bool bias) {
  return std::make_shared<ConvTranspose2d>(in, out, kernel, Conv2dOptions{.stride = stride, .padding = pad}, bias);
}

Tensor run_blocks(Sequential& blocks, const Tensor& x, FeatureTap tap) {
  CFGAN_CHECK(!tap.out || (tap.block >= 0 && tap.block < static_cast<int>(blocks.size())), "feature block ", tap.block,
              " does not exist: the network has blocks 0-", blocks.size() - 1);
  Tensor h = x;
  for (size_t i = 0; i < blocks.size(); ++i) {
    h = blocks[i].forward(h);
    if (tap.out && static_cast<int>(i) == tap.block) *tap.out = h;
  }
  return h;
}

// Upsampling stages from 4x4 to the image size, for the 32 / 64 px family.
int64_t stages(const GanSpec& spec) { return static_cast<int64_t>(std::log2(spec.image_size / 4)); }

class DcganGenerator : public GanGenerator {
 public:
  explicit DcganGenerator(const GanSpec& spec) : spec_(spec), blocks_(std::make_shared<Sequential>()) {
    const int64_t in = spec.z_dim + (spec.num_classes > 0 ? kLabelEmbedding : 0);
    const int64_t w = spec.width;
    if (spec.image_size == 28) {
      // z -> 2w x 7 x 7 -> w x 14 x 14 -> C x 28 x 28
      blocks_->add(block({std::make_shared<Linear>(in, 2 * w * 7 * 7, false),
                          std::make_shared<BatchNorm1d>(2 * w * 7 * 7), ReLU(), Unflatten({2 * w, 7, 7})}));
      blocks_->add(block({conv_t(2 * w, w, 4, 2, 1, false), std::make_shared<BatchNorm2d>(w), ReLU()}));
      blocks_->add(block({conv_t(w, spec.channels, 4, 2, 1, true), Tanh()}));
    } else {
      // z -> (w 2^(n-1)) x 4 x 4, halving channels while doubling resolution
      int64_t ch = w << (stages(spec) - 1);
      blocks_->add(
          block({Unflatten({in, 1, 1}), conv_t(in, ch, 4, 1, 0, false), std::make_shared<BatchNorm2d>(ch), ReLU()}));
      for (int64_t s = 1; s < stages(spec); ++s, ch /= 2) {
        blocks_->add(block({conv_t(ch, ch / 2, 4, 2, 1, false), std::make_shared<BatchNorm2d>(ch / 2), ReLU()}));
      }
      blocks_->add(block({conv_t(ch, spec.channels, 4, 2, 1, true), Tanh()}));
    }
    register_module("blocks", blocks_);
    if (spec.num_classes > 0) {
      label_embedding_ = std::make_shared<Embedding>(spec.num_classes, kLabelEmbedding);
      register_module("label_embedding", label_embedding_);
    }
  }

  int num_blocks() const override { return static_cast<int>(blocks_->size()); }

  Tensor configuration(const Tensor& z, const std::vector<int32_t>& labels) override {
    CFGAN_CHECK(z.ndim() == 2 && z.dim(1) == spec_.z_dim, "generator: z must be (N, ", spec_.z_dim, "), got ",
                z.shape().str());
    if (!label_embedding_) return z;
    CFGAN_CHECK(static_cast<int64_t>(labels.size()) == z.dim(0), "conditional generator: ", labels.size(),
                " labels for ", z.dim(0), " noise vectors");
    return concat({z, label_embedding_->forward(labels)}, 1);
  }

  Tensor decode(const Tensor& configuration, FeatureTap tap) override {
    CFGAN_CHECK(configuration.ndim() == 2 && configuration.dim(1) == configuration_dim(),
                "generator: a configuration must be (N, ", configuration_dim(), "), got ", configuration.shape().str());
    return run_blocks(*blocks_, configuration, tap);
  }

  int64_t configuration_dim() const override { return spec_.z_dim + (label_embedding_ ? kLabelEmbedding : 0); }
  int64_t z_dim() const override { return spec_.z_dim; }

 private:
  GanSpec spec_;
  std::shared_ptr<Sequential> blocks_;
  std::shared_ptr<Embedding> label_embedding_;
};

class DcganDiscriminator : public GanDiscriminator {
 public:
  explicit DcganDiscriminator(const GanSpec& spec) : spec_(spec), blocks_(std::make_shared<Sequential>()) {
    const bool sn = spec.discriminator == "sngan";
    const float slope = sn ? 0.1f : 0.2f;  // the SNGAN and DCGAN papers' leaky slopes
    auto norm = [&](int64_t ch) -> std::vector<ModulePtr> {
      if (sn) return {};
      return {std::make_shared<BatchNorm2d>(ch)};
    };
    const int64_t w = spec.width;
    int64_t ch = w, side = spec.image_size / 2;
    blocks_->add(block({conv(spec.channels, w, 4, 2, 1, true, sn), LeakyReLU(slope)}));
    const int64_t last_side = spec.image_size == 28 ? 7 : 4;
    while (side > last_side) {
      std::vector<ModulePtr> layers{conv(ch, 2 * ch, 4, 2, 1, sn, sn)};
      for (auto& bn : norm(2 * ch)) layers.push_back(bn);
      layers.push_back(LeakyReLU(slope));
      blocks_->add(block(std::move(layers)));
      ch *= 2;
      side /= 2;
    }
    features_ = ch * side * side;
    std::shared_ptr<Module> head = std::make_shared<Linear>(features_, 1);
    if (sn) head = std::make_shared<SpectralNorm>(head);
    head_ = head;
    register_module("blocks", blocks_);
    register_module("head", head_);
    if (spec.num_classes > 0) {
      projection_ = std::make_shared<Embedding>(spec.num_classes, features_);
      // Scaled to the head's weights (variance 1 / features): unit-variance class vectors over
      // thousands of features would outweigh head(phi) by sqrt(features) and saturate D from the
      // first step, and G then collapses onto one image per class.
      NoGrad no_grad;
      projection_->weight.copy_(projection_->weight * (1.0f / std::sqrt(static_cast<float>(features_))));
      register_module("projection", projection_);
    }
  }

  // Projection discriminator (Miyato & Koyama, 2018): logit = head(phi) + <embed(y), phi>.
  int num_blocks() const override { return static_cast<int>(blocks_->size()); }

  Tensor score(const Tensor& images, const std::vector<int32_t>& labels, FeatureTap tap) override {
    CFGAN_CHECK(images.ndim() == 4 && images.dim(1) == spec_.channels && images.dim(2) == spec_.image_size &&
                    images.dim(3) == spec_.image_size,
                "discriminator: images must be (N, ", spec_.channels, ", ", spec_.image_size, ", ", spec_.image_size,
                "), got ", images.shape().str());
    const Tensor phi = flatten(run_blocks(*blocks_, images, tap), 1);
    Tensor logits = reshape(head_->forward(phi), {images.dim(0)});
    if (projection_) {
      CFGAN_CHECK(static_cast<int64_t>(labels.size()) == images.dim(0), "conditional discriminator: ", labels.size(),
                  " labels for ", images.dim(0), " images");
      logits = logits + sum(projection_->forward(labels) * phi, {1});
    }
    return logits;
  }

 private:
  GanSpec spec_;
  std::shared_ptr<Sequential> blocks_;
  std::shared_ptr<Module> head_;
  std::shared_ptr<Embedding> projection_;
  int64_t features_ = 0;
};

}  // namespace

std::shared_ptr<GanGenerator> make_generator(const GanSpec& spec) {
  spec.validate();
  return std::make_shared<DcganGenerator>(spec);
}

std::shared_ptr<GanDiscriminator> make_discriminator(const GanSpec& spec) {
  spec.validate();
  return std::make_shared<DcganDiscriminator>(spec);
}

void dcgan_init(Module& model, Generator& gen) {
  model.apply([&](Module& m) {
    if (auto* c = dynamic_cast<Conv2d*>(&m)) init_normal(c->weight, 0.0f, 0.02f, gen);
    if (auto* c = dynamic_cast<ConvTranspose2d*>(&m)) init_normal(c->weight, 0.0f, 0.02f, gen);
    if (auto* bn = dynamic_cast<BatchNorm*>(&m); bn && bn->weight.defined()) {
      init_normal(bn->weight, 1.0f, 0.02f, gen);
      bn->bias.fill_(0.0f);
    }
  });
}

}  // namespace cfgan
