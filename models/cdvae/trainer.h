// Training a CDVAE-GAN: one critic update, then one update of encoder and decoder together
// with the critic frozen, per step. Losses (each weight a flag of train_cdvae):
//   critic:  BCE(D(x), real) + (BCE(D(x_rec), fake) + BCE(D(x_prior), fake)) / 2
//   E and G: kl_z KL(q(z|x) || N(0, I)) + kl_a KL(Bern(sigmoid(l)) || Bern(prior))
//            + sup BCE(l, the image's attribute labels)
//            + rec |D_b(x_rec) - D_b(x)|^2 (the critic's block-b features) + l1 |x_rec - x|
//            + adv (BCE(D(x_rec), real) + BCE(D(x_prior), real)) / 2
//            + flip BCE(l(x_flip), y_flip) + flip_adv BCE(D(x_flip), real)
//            + flip_critic BCE(A(D_phi(x_flip)), y_flip) + latent BCE(C(mu), prior)
// with x_rec = G(z ~ q(z|x), a ~ Concrete(l, tau)) and x_prior = G(z ~ N(0, I), a ~ Bern(prior)).
// The flip term asks G to draw a counterfactual the encoder reads: y_flip is the image's
// labels with one attribute (uniform per image) inverted, x_flip = G(z, y_flip) with z held
// (no gradient to E through it), and E's body and code head are frozen for it and its
// batch-norm statistics restored after it, so E keeps learning from real images only.
// flip_adv (off by default) asks the frozen critic to take the flipped decodes for real too:
// E's head is satisfied by faint stripes, the critic is not; but the critic also knows which
// attributes go together in the data, and pulls a direct intervention back to them
// (docs/cdvae-gan.md measures both).
// critic_attr gives the critic an attribute head A on its last features (AC-GAN's auxiliary
// classifier), trained with the critic on real images' labels (weight critic_attr in the
// critic's loss); flip_critic asks A to read the flips too. A second reader, one that also
// tells real from generated, for the flips that satisfy E's code head and not an independent
// judge; with it every attribute's flips deceive the judge (docs/cdvae-gan.md), so it is on.
// latent (off by default) is an adversary on the Gaussian code: a small network C learns to
// read the attributes off mu (BCE to the labels, its own Adam), and E is asked to leave it no
// better than the prior's frequencies. What z holds of an attribute a flip cannot change: a
// disc's mu, holding no orientation, might decode under a flipped Round code to the mean of all
// orientations, a blob; with C unable to tell discs' codes from squares', a disc's mu would have
// to carry some orientation too. Measured, it does not make discs' flips square (docs/cdvae-gan.md,
// "The latent adversary"), so it is off.
// tau anneals geometrically from tau_start to tau_end over tau_steps.
#pragma once

#include <memory>
#include <string>

#include "engine/data/loader.h"
#include "engine/nn/ema.h"
#include "engine/optim/optimizer.h"
#include "engine/run/training_loop.h"
#include "models/cdvae/model.h"

namespace cfgan {

// kl_z is small because the two reconstruction terms are means over pixels and features while
// the KL sums over z's dimensions: at weight 1 it outbid everything z could save there and z
// collapsed to under 1 nat per image (docs/cdvae-gan.md, "The KL weight and the learning rate").
// kl_a is small for the same kind of reason: summed over the K codes against a supervised BCE
// averaged over them, at weight 1 it held the logits near |l| = 2, so about one sampled code in
// nine contradicted the image, and the decoder learned to take attributes from z instead
// (docs/cdvae-gan.md, "The codes' KL weight").
struct CdvaeWeights {
  float kl_z = 0.01f, kl_a = 0.1f, sup = 10.0f, rec = 1.0f, l1 = 10.0f, adv = 1.0f, flip = 5.0f, flip_adv = 0.0f;
  float latent = 0.0f;
  float critic_attr = 1.0f, flip_critic = 5.0f;
};

struct CdvaeConfig {
  CdvaeSpec spec;
  CdvaeWeights weights;
  int64_t batch = 64;
  float lr = 1e-3f, beta1 = 0.5f, beta2 = 0.999f;
  float tau_start = 1.0f, tau_end = 0.3f;
  int64_t tau_steps = 5000;
  bool hard = false;  // straight-through hard codes
  // The decoder is fed the images' attribute labels instead of sampled codes (the
  // "plain conditioning labels" baseline); the encoder's code head still learns them.
  bool label_codes = false;
  int rec_block = 1;  // the critic block whose features measure reconstruction
  // An exponential moving average of E's and G's weights (0: none): what samples, checkpoints'
  // counterfactuals and eval_cdvae use when kept, as train_gan's EMA generator.
  float ema_decay = 0.0f;
  uint64_t seed = 1;
  Device device = Device::cpu;
};

// The random draws of one step, in the order step() takes them from its noise stream.
struct CdvaeNoise {
  Tensor eps;       // (N, z_dim) ~ N(0, 1): z = mu + exp(logvar / 2) eps
  Tensor concrete;  // (N, K) uniforms of the codes' Concrete sample; undefined with label codes
  Tensor prior_u;   // (N, K) uniforms: prior codes 1[u < prior]
  Tensor prior_z;   // (N, z_dim) ~ N(0, 1): the prior samples' z
  Tensor flip_u;    // (N) uniforms: the attribute the flip term inverts, index floor(u K); only with flip > 0
};

// Training images must carry attributes named as config.spec.attributes (in that order).
class CdvaeTrainer : public TrainingJob {
 public:
  CdvaeTrainer(const CdvaeConfig& config, const ImageDataset& data);
  StepScalars step() override;  // step_on(the next batch, draw_noise(its size))
  // One step on a given batch with given draws: the exact step, for tests and fixtures. The
  // gradients it used stay in the parameters' .grad until the next step.
  StepScalars step_on(const Batch& batch, const CdvaeNoise& noise);
  CdvaeNoise draw_noise(int64_t n);
  int64_t steps_done() const override { return steps_; }
  void save(const std::string& path) override;
  void load(const std::string& path);  // errors name the file and what does not match
  // Rows of originals | reconstructions | one flip per attribute for the fixed images `shown`.
  void write_samples(const std::string& path) override;
  float temperature() const;
  CdvaeGan& model() { return *model_; }
  // The model counterfactuals are drawn from: the EMA one when kept, else the live one.
  CdvaeGan& sampling_model() { return ema_model_ ? *ema_model_ : *model_; }
  Module* critic_attribute_head() { return critic_attr_.get(); }  // A; null unless weights.critic_attr > 0

  // The loop's stops, progress fields (the optional terms' only when on) and plotted curves.
  void describe(TrainingLoopOptions& opts) const;

 private:
  // The flip term's losses, each 0 when its weight is.
  struct FlipLosses {
    float codes = 0, adv = 0, critic = 0;
  };
  // Adds the flip term's gradients (G's only).
  FlipLosses flip_step(const Tensor& z, const Tensor& labels, const Tensor& flip_u);
  // The critic's attribute logits for images (N, K): A on its last block's features.
  Tensor critic_attributes(const Tensor& images, Tensor* logits = nullptr);
  // Trains the latent adversary C on mu (detached) and returns its BCE to the labels.
  float latent_critic_step(const Tensor& mu, const Tensor& labels);

  CdvaeConfig config_;
  std::shared_ptr<CdvaeGan> model_, ema_model_;  // ema_model_'s critic is unused
  std::unique_ptr<Ema> ema_;
  std::unique_ptr<Adam> opt_eg_, opt_d_;
  std::shared_ptr<Sequential> latent_critic_;  // with weights.latent > 0
  std::unique_ptr<Adam> opt_latent_;
  std::shared_ptr<Linear> critic_attr_;  // A, with weights.critic_attr > 0
  std::unique_ptr<Adam> opt_critic_attr_;
  DataLoader loader_;
  Generator noise_;
  Tensor prior_, shown_;
  int64_t steps_ = 0;
};

// A grid of `images` (N, C, S, S): per row an original, its reconstruction and one
// counterfactual per attribute index in `flips` (one attribute flipped in each).
Tensor counterfactual_grid(CdvaeGan& model, const Tensor& images, const std::vector<int>& flips);

}  // namespace cfgan
