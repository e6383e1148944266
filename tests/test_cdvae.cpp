// CDVAE-GAN: the spec, encode/decode shapes, counterfactuals as code flips, one training step.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/autograd.h"
#include "engine/io/safetensors.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/cdvae/model.h"
#include "models/cdvae/trainer.h"
#include "models/classifier.h"
#include "tests/golden_util.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::error_of;
using ::testing::HasSubstr;

namespace {

CdvaeSpec small_spec() {
  CdvaeSpec s;
  s.image_size = 32, s.channels = 3, s.z_dim = 4, s.width = 4;
  s.attributes = {"Red", "Large"};
  s.prior = {0.4f, 0.5f};
  return s;
}

// Training on small_spec() four images at a time, every other setting at its default.
CdvaeConfig small_config() {
  CdvaeConfig c;
  c.spec = small_spec();
  c.batch = 4;
  return c;
}

// A data set of n random 32x32 RGB images, half of them "Red".
ImageDataset tiny_data(int64_t n) {
  ImageDataset d;
  d.count = n, d.channels = 3, d.height = d.width = 32;
  d.class_names = {"all"};
  Generator gen(3);
  for (float v : Tensor::rand({n * 3 * 32 * 32}, gen, Device::cpu, 0.0f, 255.0f).to_host())
    d.pixels.push_back(static_cast<uint8_t>(v));
  d.labels.assign(static_cast<size_t>(n), 0);
  d.attribute_names = {"Red", "Large"};
  for (int64_t i = 0; i < n; ++i) d.attributes.insert(d.attributes.end(), {int8_t(i % 2 ? 1 : -1), int8_t(-1)});
  return d;
}

}  // namespace

TEST(Cdvae, SpecRoundTripsAndRejectsBadValues) {
  const CdvaeSpec s = small_spec();
  EXPECT_EQ(CdvaeSpec::from_json(s.to_json()).to_json(), s.to_json());
  EXPECT_EQ(s.attribute_index("Large", "--flip"), 1);
  EXPECT_THAT(error_of([&] { s.attribute_index("Hat", "--flip"); }),
              HasSubstr("--flip: unknown attribute 'Hat' (the model codes Red, Large)"));
  CdvaeSpec bad = s;
  bad.prior = {0.0f, 0.5f};
  EXPECT_THAT(error_of([&] { bad.validate(); }), HasSubstr("strictly between 0 and 1"));
  bad = s;
  bad.image_size = 28;
  EXPECT_THAT(error_of([&] { bad.validate(); }), HasSubstr("32 or 64"));
  bad = s;
  bad.attributes.clear(), bad.prior.clear();
  EXPECT_THAT(error_of([&] { bad.validate(); }), HasSubstr("no attributes"));
}

TEST(Cdvae, CounterfactualsAreDecodesOfFlippedHardCodes) {
  manual_seed(2);
  CdvaeGan model(small_spec());
  model.eval();
  Generator gen(4);
  const Tensor x = Tensor::rand({3, 3, 32, 32}, gen, Device::cpu, -1.0f, 1.0f);
  NoGrad no_grad;
  const CdvaeGan::Encoding e = model.encode(x);
  EXPECT_EQ(e.mu.shape(), Shape({3, 4}));
  EXPECT_EQ(e.logits.shape(), Shape({3, 2}));
  std::vector<float> codes = e.logits.to_host();
  for (float& c : codes) c = c > 0 ? 1.0f : 0.0f;
  // No flip: the reconstruction from the mean code and the hard attribute codes.
  const Tensor recon = model.decode(e.mu, Tensor::from_host({3, 2}, codes));
  EXPECT_EQ(model.counterfactual(x, {}).to_host(), recon.to_host());
  // Flipping attribute 1 inverts exactly its code.
  std::vector<float> flipped = codes;
  for (int n = 0; n < 3; ++n) flipped[n * 2 + 1] = 1.0f - flipped[n * 2 + 1];
  const Tensor cf = model.counterfactual(x, {1});
  EXPECT_EQ(cf.to_host(), model.decode(e.mu, Tensor::from_host({3, 2}, flipped)).to_host());
  EXPECT_NE(cf.to_host(), recon.to_host());
  EXPECT_THAT(error_of([&] {
                model.encode(Tensor::zeros({1, 3, 28, 28}));
              }),
              HasSubstr("expected images (N, 3, 32, 32)"));
}

TEST(Cdvae, ATrainingStepUpdatesEveryPartWithFiniteLosses) {
  CdvaeConfig config = small_config();
  config.spec.prior = {0.5f, 0.01f};
  const ImageDataset data = tiny_data(8);
  CdvaeTrainer trainer(config, data);
  auto snapshot = [&](Module& m) { return m.named_parameters()[0].second.to_host(); };
  const auto eg_before = snapshot(trainer.model().autoencoder()), d_before = snapshot(trainer.model().critic());
  const StepScalars s = trainer.step();
  for (const auto& [name, value] : s) EXPECT_TRUE(std::isfinite(value)) << name;
  EXPECT_NE(snapshot(trainer.model().autoencoder()), eg_before);
  EXPECT_NE(snapshot(trainer.model().critic()), d_before);
  EXPECT_EQ(trainer.steps_done(), 1);
  // Data whose attributes are not the model's is refused.
  ImageDataset other = data;
  other.attribute_names = {"Red", "Round"};
  EXPECT_THAT(error_of([&] { CdvaeTrainer t(config, other); }), HasSubstr("its attributes are not the model's"));
}

// The flip term moves G only. After one step, Adam's first moment is (1 - beta1) times each
// parameter's gradient, so the saved optimizer state shows the gradients: E's body, heads and
// the critic get exactly the gradients a step without the term gives them, G's differ.
class CdvaeFlip : public cfgan_test::TempDirTest {
 protected:
  // One step of a fresh trainer on `data`, saved to `file`: the checkpoint's tensors and the
  // step's scalar `reported`.
  std::pair<TensorMap, float> step_and_save(const CdvaeConfig& config, const ImageDataset& data,
                                            const std::string& reported, const std::string& file) {
    CdvaeTrainer trainer(config, data);
    float value = -1;
    for (const auto& [name, v] : trainer.step()) {
      if (name == reported) value = v;
    }
    trainer.save(path(file));
    return {load_safetensors(path(file)).tensors, value};
  }

  struct Moments {
    int compared = 0;  // moments found in both runs
    int moved = 0;     // of those `reaches` selects, the ones that differ between the runs
    int kept = 0;      // all the others, each checked bit-identical
    int learner = 0;   // moments of the network named by `learner`, each checked non-zero
  };
  // Adam's first moments after one step with a term (`with`) and without it (`without`): those
  // `reaches` selects may differ, every other one must be bit-identical; those whose name starts
  // with `learner` (a network the run trains, perhaps absent from `without`) must not be zero.
  Moments compare_moments(const TensorMap& with, const TensorMap& without,
                          const std::function<bool(const std::string&)>& reaches, const std::string& learner,
                          const std::string& term) {
    Moments m;
    for (const auto& [name, t] : with) {
      if (name.find(".exp_avg.") == std::string::npos) continue;
      const std::vector<float> now = t.to_host();
      if (!learner.empty() && name.rfind(learner, 0) == 0) {
        ++m.learner;
        EXPECT_NE(now, std::vector<float>(now.size(), 0.0f)) << name << ": it did not learn";
        if (!without.count(name)) continue;
      }
      ++m.compared;
      const std::vector<float> before = without.at(name).to_host();
      if (reaches(name)) {
        m.moved += now != before;
      } else {
        ++m.kept;
        EXPECT_EQ(now, before) << name << ": " << term << " reached it";
      }
    }
    return m;
  }
};

bool in_decoder(const std::string& name) { return name.find(".decoder.") != std::string::npos; }

TEST_F(CdvaeFlip, TheFlipLossTrainsTheDecoderAlone) {
  const ImageDataset data = tiny_data(8);
  auto one_step = [&](float flip, const std::string& file) {
    CdvaeConfig config = small_config();
    config.spec.prior = {0.5f, 0.01f};
    config.weights.flip = flip;
    config.weights.flip_adv = flip;  // its adversarial part too: the critic is frozen for it
    config.weights.flip_critic = 0.0f;  // the critic's head still learns from real images, as in both runs
    return step_and_save(config, data, "flip", file);
  };
  const auto [plain, no_flip] = one_step(0.0f, "plain.safetensors");
  const auto [flipping, flip_loss] = one_step(1.0f, "flip.safetensors");
  EXPECT_EQ(no_flip, 0.0f);
  EXPECT_GT(flip_loss, 0.0f);
  const Moments m = compare_moments(flipping, plain, in_decoder, "", "the flip loss");
  EXPECT_GT(m.compared, 20);  // E's, G's and the critic's parameters
  EXPECT_GT(m.moved, 0);
  // E reads the flipped decodes in training mode; its batch-norm statistics, which eval mode
  // (counterfactual, eval_cdvae) uses, must still come from real images only.
  int statistics = 0;
  for (const auto& [name, t] : plain) {
    if (name.rfind("model.", 0) != 0 || name.find("running_") == std::string::npos ||
        name.find(".decoder.") != std::string::npos)
      continue;
    ++statistics;
    EXPECT_EQ(t.to_host(), flipping.at(name).to_host()) << name << ": the flipped decodes moved it";
  }
  EXPECT_GT(statistics, 0);
}

// The decoder's running statistics (what eval mode, and so every counterfactual, decodes with)
// come from posterior codes only: other prior draws leave them bit-identical, while the
// critic, which does see the prior samples, ends the step differently.
TEST(CdvaeStatistics, PriorSamplesLeaveTheDecodersStatistics) {
  const ImageDataset data = tiny_data(8);
  auto one_step = [&](uint64_t prior_seed) {
    CdvaeConfig config = small_config();
    CdvaeTrainer trainer(config, data);
    const Batch batch{.images = image_batch(data, 0, 4),
                      .labels = {},
                      .attributes = Tensor::from_host({4, 2}, {1, 0, 0, 1, 1, 1, 0, 0})};
    CdvaeNoise noise = trainer.draw_noise(4);
    Generator other(prior_seed);
    noise.prior_z = Tensor::randn(noise.prior_z.shape(), other);
    trainer.step_on(batch, noise);
    return trainer.model().state_dict();
  };
  const NamedTensors a = one_step(1), b = one_step(2);
  int decoder_statistics = 0, critic_differs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& name = a[i].first;
    if (name.find("running_") == std::string::npos) continue;
    if (name.find(".decoder.") != std::string::npos) {
      ++decoder_statistics;
      EXPECT_EQ(a[i].second.to_host(), b[i].second.to_host()) << name << ": prior samples moved it";
    } else if (name.rfind("critic.", 0) == 0) {
      critic_differs += a[i].second.to_host() != b[i].second.to_host();
    }
  }
  EXPECT_GT(decoder_statistics, 0);
  EXPECT_GT(critic_differs, 0);
}

// The latent adversary moves E's body and mean head alone (it reads mu), and C learns: the
// saved first moments show every gradient, as in the flip test above.
TEST_F(CdvaeFlip, TheLatentAdversaryTrainsTheEncodersMeanAlone) {
  const ImageDataset data = tiny_data(8);
  auto one_step = [&](float latent, const std::string& file) {
    CdvaeConfig config = small_config();
    config.weights.latent = latent;
    return step_and_save(config, data, "latent_read", file);
  };
  const auto [plain, no_read] = one_step(0.0f, "plain.safetensors");
  const auto [hiding, read] = one_step(1.0f, "latent.safetensors");
  EXPECT_EQ(no_read, 0.0f);
  EXPECT_GT(read, 0.0f);
  EXPECT_EQ(plain.count("latent.0.weight"), 0u);
  const auto reads_mu = [](const std::string& name) {
    return name.find(".encoder.") != std::string::npos || name.find(".mu.") != std::string::npos;
  };
  const Moments m = compare_moments(hiding, plain, reads_mu, "optLatent.", "the latent adversary");
  EXPECT_EQ(m.learner, 4);  // C: two layers' weights and biases
  EXPECT_GT(m.moved, 0);
  EXPECT_GT(m.kept, 20);  // G's, the critic's, E's log-variance and code heads
}

// The critic's attribute head learns from real images with the critic; its reading of the
// flips then moves G alone: with the head on in both runs, adding the flip reading leaves the
// first moments of E, the critic and the head bit-identical and changes G's.
TEST_F(CdvaeFlip, TheCriticsReadingOfTheFlipsTrainsTheDecoderAlone) {
  const ImageDataset data = tiny_data(8);
  auto one_step = [&](float flip_critic, const std::string& file) {
    CdvaeConfig config = small_config();  // the head is on by default
    config.weights.flip_critic = flip_critic;
    return step_and_save(config, data, "flip_critic", file);
  };
  const auto [plain, no_read] = one_step(0.0f, "plain.safetensors");
  const auto [reading, read] = one_step(1.0f, "read.safetensors");
  EXPECT_EQ(no_read, 0.0f);
  EXPECT_GT(read, 0.0f);
  const Moments m = compare_moments(reading, plain, in_decoder, "optCriticAttr.", "the critic's reading of the flips");
  EXPECT_EQ(m.learner, 2);  // the head's weight and bias, kept bit-identical too
  EXPECT_GT(m.moved, 0);
  EXPECT_GT(m.kept, 20);
  // Without the head nothing of it is saved, and its reading needs it.
  CdvaeConfig off = small_config();
  off.weights.critic_attr = off.weights.flip_critic = 0.0f;
  EXPECT_EQ(step_and_save(off, data, "flip", "off.safetensors").first.count("criticAttr.weight"), 0u);
  off.weights.flip_critic = 1.0f;
  EXPECT_THAT(error_of([&] { CdvaeTrainer t(off, data); }), HasSubstr("0 unless --flip and --critic-attr are on"));
}

// The flipped decodes' adversarial weight changes the objective: a checkpoint names its own.
TEST_F(CdvaeFlip, ARunWithAnotherFlipAdversarialWeightCannotResume) {
  CdvaeConfig config = small_config();
  const ImageDataset data = tiny_data(8);
  config.weights.flip_adv = 1.0f;
  CdvaeTrainer trainer(config, data);
  trainer.step();
  trainer.save(path("flip_adv.safetensors"));
  config.weights.flip_adv = 0.0f;
  CdvaeTrainer other(config, data);
  EXPECT_THAT(error_of([&] { other.load(path("flip_adv.safetensors")); }),
              HasSubstr("disagree on the flipped decodes' adversarial term (--flip-adv 1 there, 0 here)"));
  // Without the flip term its adversarial part would be silently unused.
  config.weights.flip = 0.0f;
  config.weights.flip_adv = 0.5f;
  EXPECT_THAT(error_of([&] { CdvaeTrainer(config, data); }),
              HasSubstr("--flip-adv: expected a weight >= 0, and 0 unless --flip is on (it is part of the flip "
                        "term); got 0.5 with --flip 0"));
}

// The head is on by default; a run with it does not resume a checkpoint without it, nor one
// written before the head existed (no weight named: it had none).
TEST_F(CdvaeFlip, ARunWithTheHeadDoesNotResumeACheckpointWithoutIt) {
  const ImageDataset data = tiny_data(8);
  CdvaeConfig off = small_config();
  off.weights.critic_attr = off.weights.flip_critic = 0.0f;
  CdvaeTrainer trainer(off, data);
  trainer.step();
  trainer.save(path("off.safetensors"));
  CdvaeTrainer with_head(small_config(), data);
  const std::string expected = "disagree on the critic's attribute head (--critic-attr 0 there, 1 here)";
  EXPECT_THAT(error_of([&] { with_head.load(path("off.safetensors")); }), HasSubstr(expected));
  SafetensorsFile older = load_safetensors(path("off.safetensors"));
  older.metadata.erase("critic_attr");
  older.metadata.erase("flip_critic");
  save_safetensors(path("older.safetensors"), NamedTensors(older.tensors.begin(), older.tensors.end()),
                   older.metadata, older.bytes);
  EXPECT_THAT(error_of([&] { with_head.load(path("older.safetensors")); }), HasSubstr(expected));
}

// With --ema-decay the checkpoint carries an average of E and G beside the live weights, and
// load_cdvae (what counterfactual and eval_cdvae read) takes the average.
class CdvaeEma : public cfgan_test::TempDirTest {};

TEST_F(CdvaeEma, CheckpointsServeTheAveragedModel) {
  CdvaeConfig config = small_config();
  config.ema_decay = 0.9f;
  const ImageDataset data = tiny_data(8);  // the trainer's loader reads it in place
  CdvaeTrainer trainer(config, data);
  for (int i = 0; i < 3; ++i) trainer.step();
  trainer.save(path("ema.safetensors"));
  const auto loaded = load_cdvae(path("ema.safetensors"));
  const NamedTensors got = loaded->autoencoder().state_dict(),
                     averaged = trainer.sampling_model().autoencoder().state_dict(),
                     live = trainer.model().autoencoder().state_dict();
  ASSERT_EQ(got.size(), averaged.size());
  int differs_from_live = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].second.to_host(), averaged[i].second.to_host()) << got[i].first;
    differs_from_live += got[i].second.to_host() != live[i].second.to_host();
  }
  EXPECT_GT(differs_from_live, 0);
  // A run without an EMA cannot resume from this checkpoint, and says why.
  config.ema_decay = 0.0f;
  CdvaeTrainer plain(config, data);
  EXPECT_THAT(error_of([&] { plain.load(path("ema.safetensors")); }), HasSubstr("disagree on keeping an EMA"));
}

// One whole training step against PyTorch (tests/golden/make_fixtures.py, cdvae_step): every
// loss on, the flip term and the critic's attribute head too, the step's draws given. Compared:
// each loss term and every parameter's gradient (the critic's and its head's from their update,
// E's and G's from theirs). The networks
// are three deep (E -> G -> critic) in fp32, summed in another order than PyTorch's: losses
// to 1e-5 relative, gradients to 1e-5 + 1e-3 relative per element.
TEST(Golden, CdvaeStep) {
  const SafetensorsFile f = cfgan::testing::load_golden("cdvae_step");
  const auto meta = [&](const char* key) { return std::stof(f.metadata.at(key)); };
  CdvaeConfig config;
  config.spec = small_spec();
  config.spec.width = static_cast<int64_t>(meta("width"));
  config.spec.attributes = {"A", "B"};
  config.spec.prior = f.tensors.at("prior").to_host();
  config.batch = 4;
  config.lr = meta("lr");  // the critic's Adam step comes before E and G's losses
  config.tau_start = config.tau_end = meta("tau");
  config.weights = {.kl_z = meta("kl_z"),
                    .kl_a = meta("kl_a"),
                    .sup = meta("sup"),
                    .rec = meta("rec"),
                    .l1 = meta("l1"),
                    .adv = meta("adv"),
                    .flip = meta("flip"),
                    .flip_adv = meta("flip_adv"),
                    .critic_attr = meta("critic_attr"),
                    .flip_critic = meta("flip_critic")};
  ImageDataset data = tiny_data(4);
  data.attribute_names = config.spec.attributes;
  CdvaeTrainer trainer(config, data);
  trainer.model().load_state_dict(f.tensors, "init.");
  trainer.critic_attribute_head()->load_state_dict(f.tensors, "head_init.");

  Batch batch;
  batch.images = f.tensors.at("x");
  batch.attributes = f.tensors.at("labels");
  CdvaeNoise noise{.eps = f.tensors.at("eps"),
                   .concrete = f.tensors.at("concrete"),
                   .prior_u = f.tensors.at("prior_u"),
                   .prior_z = f.tensors.at("prior_z"),
                   .flip_u = f.tensors.at("flip_u")};
  const StepScalars stats = trainer.step_on(batch, noise);
  for (const char* term :
       {"d_loss", "rec", "adv", "kl_z", "kl_a", "sup", "l1", "flip", "flip_adv", "critic_attr", "flip_critic"}) {
    const double expected = f.tensors.at(term).item();
    bool found = false;
    for (const auto& [name, value] : stats) {
      if (name != term) continue;
      found = true;
      EXPECT_NEAR(value, expected, 1e-5 * std::fabs(expected) + 1e-7) << term;
    }
    EXPECT_TRUE(found) << term << " is not among the step's statistics";
  }
  int compared = 0;
  for (const auto& [name, p] : trainer.model().named_parameters()) {
    const auto expected = f.tensors.find("grad." + name);
    if (expected == f.tensors.end()) {  // the encoder body's own real/fake head: unused
      EXPECT_FALSE(p.grad().defined()) << name << " got a gradient PyTorch does not have";
      continue;
    }
    cfgan::testing::expect_close(p.grad(), expected->second, 1e-5f, 1e-3f, "gradient of " + name);
    ++compared;
  }
  EXPECT_EQ(compared, 35);
  for (const auto& [name, p] : trainer.critic_attribute_head()->named_parameters()) {
    cfgan::testing::expect_close(p.grad(), f.tensors.at("grad.criticAttr." + name), 1e-5f, 1e-3f,
                                 "gradient of the critic's attribute head's " + name);
  }
}
