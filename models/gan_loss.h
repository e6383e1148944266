// Adversarial objectives. D's loss is minimized over D, G's over G.
//   bce (non-saturating, Goodfellow et al.): D: -log D(x) - log(1 - D(G(z))); G: -log D(G(z))
//   hinge (Lim & Ye; Miyato et al.):         D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z))
#pragma once

#include <string>

#include "engine/tensor.h"

namespace cfgan {

enum class GanLoss { bce, hinge };

GanLoss parse_gan_loss(const std::string& name);  // "bce" or "hinge"; errors name --loss
const char* gan_loss_name(GanLoss loss);

// logits are (N); losses are means over the batch.
Tensor discriminator_loss(GanLoss loss, const Tensor& real_logits, const Tensor& fake_logits);
Tensor generator_loss(GanLoss loss, const Tensor& fake_logits);

// The R1 penalty (Mescheder et al., 2018, as StyleGAN2 applies it) on a real batch:
// (gamma / 2) mean_n ||grad_x D(x_n)||^2, with a graph back to D's parameters.
// real_logits must come from a forward of `real` with real.requires_grad() set.
Tensor r1_penalty(const Tensor& real_logits, const Tensor& real, float gamma);

}  // namespace cfgan
