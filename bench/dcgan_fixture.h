// The model side of the DCGAN step benches (bench_dcgan_step on the CPU, bench_cuda_step
// on the GPU): G and D with DCGAN init from fixed seeds, their Adam optimizers, and one
// fixed batch of real images and noise on `device`.
#pragma once

#include "engine/engine.h"
#include "models/gan_trainer.h"

namespace cfgan::bench {

struct DcganStep {
  DcganStep(const GanSpec& spec, int64_t batch, Device device) {
    manual_seed(1);
    g = make_generator(spec);
    d = make_discriminator(spec);
    Generator init(1);
    dcgan_init(*g, init);
    dcgan_init(*d, init);
    g->to(device);
    d->to(device);
    opt_g = std::make_unique<Adam>(g->named_parameters(), AdamOptions{.lr = 2e-4f, .beta1 = 0.5f});
    opt_d = std::make_unique<Adam>(d->named_parameters(), AdamOptions{.lr = 2e-4f, .beta1 = 0.5f});
    Generator data(2);
    real = Tensor::rand({batch, spec.channels, spec.image_size, spec.image_size}, data, device, -1.0f, 1.0f);
    z = Tensor::randn({batch, spec.z_dim}, data, device);
  }
  void run() { gan_train_step(*g, *d, *opt_g, *opt_d, GanLoss::bce, real, z, {}); }
  // D's lazy R1 update alone (what --r1 adds every --r1-every D steps).
  void run_r1(const R1Regularization& r1) { r1_update(*d, *opt_d, real, {}, r1); }

  std::shared_ptr<GanGenerator> g;
  std::shared_ptr<GanDiscriminator> d;
  std::unique_ptr<Adam> opt_g, opt_d;
  Tensor real, z;
};

}  // namespace cfgan::bench
