// A complete GAN trainer in one file, to read top to bottom: a DCGAN learns to draw
// Fashion-MNIST clothes. Everything here is the installed package's public API
// (engine/engine.h), so this file also builds outside the repository (tests/consumer/).
// docs/how-a-gan-trains.md walks through one of its steps; apps/train_gan.cpp is the
// full program (flags, EMA, exact resume, metrics, other data and models).
//
//   minimal_gan [steps=2000] [out=minimal_gan_out] [data=/usr/share/datasets/fashion-mnist]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "engine/engine.h"

using namespace cfgan;

constexpr int64_t kBatch = 64, kZ = 100, kWidth = 64;

// G: noise z (N, 100) -> image (N, 1, 28, 28) in [-1, 1]. Each transposed convolution
// doubles the side: 7 -> 14 -> 28.
std::shared_ptr<Sequential> make_generator() {
  const Conv2dOptions up{.stride = 2, .padding = 1};
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(kZ, 2 * kWidth * 7 * 7, false), std::make_shared<BatchNorm1d>(2 * kWidth * 7 * 7),
      ReLU(), Unflatten({2 * kWidth, 7, 7}),  // (N, 128, 7, 7)
      std::make_shared<ConvTranspose2d>(2 * kWidth, kWidth, 4, up, false), std::make_shared<BatchNorm2d>(kWidth),
      ReLU(),                                                                // (N, 64, 14, 14)
      std::make_shared<ConvTranspose2d>(kWidth, 1, 4, up, false), Tanh()});  // (N, 1, 28, 28)
}

// D: image -> one logit per image, "how real does this look". Each strided convolution
// halves the side: 28 -> 14 -> 7.
std::shared_ptr<Sequential> make_discriminator() {
  const Conv2dOptions down{.stride = 2, .padding = 1};
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, kWidth, 4, down), LeakyReLU(0.2f),  // (N, 64, 14, 14)
      std::make_shared<Conv2d>(kWidth, 2 * kWidth, 4, down, false), std::make_shared<BatchNorm2d>(2 * kWidth),
      LeakyReLU(0.2f), Flatten(),                                    // (N, 128*7*7)
      std::make_shared<Linear>(2 * kWidth * 7 * 7, 1), Flatten()});  // (N, 1)
}

// DCGAN's initialization (Radford et al. 2015): convolution weights ~ N(0, 0.02), batch-norm
// scales ~ N(1, 0.02). The default (uniform) one trains too, only slower at first.
void dcgan_init(Module& model, Generator& gen) {
  model.apply([&](Module& m) {
    if (auto* c = dynamic_cast<Conv2d*>(&m)) init_normal(c->weight, 0.0f, 0.02f, gen);
    if (auto* c = dynamic_cast<ConvTranspose2d*>(&m)) init_normal(c->weight, 0.0f, 0.02f, gen);
    if (auto* bn = dynamic_cast<BatchNorm*>(&m)) init_normal(bn->weight, 1.0f, 0.02f, gen);
  });
}

// Writes G's samples for a fixed z as an 8x8 grid: the same 64 noise vectors at every
// checkpoint, so successive grids show the same "drawings" getting better.
void save_samples(Sequential& g, const Tensor& fixed_z, const std::string& path) {
  NoGrad no_graph;  // sampling records no tape
  g.eval();         // batch norm uses its running statistics
  write_png(path, image_grid(g(fixed_z), 8));
  g.train();
}

int main(int argc, char** argv) try {
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 2000;
  if (steps < 1) throw std::invalid_argument(std::string("steps: expected a positive integer, got '") + argv[1] + "'");
  const std::string out = argc > 2 ? argv[2] : "minimal_gan_out";
  const std::string data_dir = argc > 3 ? argv[3] : kFashionMnistDir;
  std::filesystem::create_directories(out);

  Generator rng(0);  // one seeded stream: same seed, same run
  const ImageDataset data = load_fashion_mnist(data_dir, "train");
  DataLoader loader(data, kBatch, /*seed=*/0);  // shuffled batches in [-1, 1]
  auto g = make_generator();
  auto d = make_discriminator();
  dcgan_init(*g, rng);
  dcgan_init(*d, rng);
  std::printf("minimal_gan: %lld images, G %lld parameters, D %lld, %lld steps -> %s/\n",
              static_cast<long long>(data.count), static_cast<long long>(g->parameter_count()),
              static_cast<long long>(d->parameter_count()), static_cast<long long>(steps), out.c_str());

  // Adam with DCGAN's settings: lr 2e-4 and beta1 0.5 (less momentum: the target moves).
  const AdamOptions adam{.lr = 2e-4f, .beta1 = 0.5f};
  Adam opt_g(g->named_parameters(), adam), opt_d(d->named_parameters(), adam);
  const Tensor fixed_z = Tensor::randn({64, kZ}, rng);
  const Tensor ones = Tensor::ones({kBatch, 1}), zeros = Tensor::zeros({kBatch, 1});

  for (int64_t step = 1; step <= steps; ++step) {
    const Tensor real = loader.next().images;           // (64, 1, 28, 28)
    const Tensor z = Tensor::randn({kBatch, kZ}, rng);  // (64, 100)

    // D step: real images should score 1, G's images 0. fake.detach() cuts the tape at
    // G's output, so this backward stops there and G's parameters get no gradient.
    opt_d.zero_grad();
    const Tensor fake = (*g)(z);
    const Tensor d_loss = bce_with_logits((*d)(real), ones) + bce_with_logits((*d)(fake.detach()), zeros);
    d_loss.backward();
    opt_d.step();

    // G step: G wants the (just updated) D to score its images 1. The gradient flows
    // back through D into G; D's parameters are frozen so D's weight gradients are
    // skipped, and opt_g only moves G.
    opt_g.zero_grad();
    Tensor g_loss;
    {
      const FrozenParameters frozen(*d);
      g_loss = bce_with_logits((*d)(fake), ones);
      g_loss.backward();
    }
    opt_g.step();

    if (step % 100 == 0 || step == steps) {
      std::printf("step %5lld  d_loss %.3f  g_loss %.3f\n", static_cast<long long>(step), d_loss.item(), g_loss.item());
      std::fflush(stdout);
    }
    if (step % 500 == 0 || step == steps) {
      char name[64];
      std::snprintf(name, sizeof name, "/samples_%06lld.png", static_cast<long long>(step));
      save_samples(*g, fixed_z, out + name);
    }
  }

  // The checkpoint: G's weights and batch-norm statistics, in safetensors (PyTorch opens it).
  save_safetensors(out + "/generator.safetensors", g->state_dict());
  std::printf("wrote %s/generator.safetensors and the sample grids\n", out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "minimal_gan: %s\n", e.what());
  return 1;
}
