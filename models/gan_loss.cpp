#include "models/gan_loss.h"

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {

GanLoss parse_gan_loss(const std::string& name) {
  if (name == "bce") return GanLoss::bce;
  if (name == "hinge") return GanLoss::hinge;
  fail("--loss: expected bce or hinge, got '", name, "'");
}

const char* gan_loss_name(GanLoss loss) { return loss == GanLoss::bce ? "bce" : "hinge"; }

Tensor discriminator_loss(GanLoss loss, const Tensor& real_logits, const Tensor& fake_logits) {
  if (loss == GanLoss::bce) {
    return bce_with_logits(real_logits, Tensor::ones(real_logits.shape(), real_logits.device())) +
           bce_with_logits(fake_logits, Tensor::zeros(fake_logits.shape(), fake_logits.device()));
  }
  return mean(relu(1.0f - real_logits)) + mean(relu(1.0f + fake_logits));
}

Tensor generator_loss(GanLoss loss, const Tensor& fake_logits) {
  if (loss == GanLoss::bce)
    return bce_with_logits(fake_logits, Tensor::ones(fake_logits.shape(), fake_logits.device()));
  return -mean(fake_logits);
}

Tensor r1_penalty(const Tensor& real_logits, const Tensor& real, float gamma) {
  CFGAN_CHECK(real.requires_grad(), "r1_penalty: the real batch must require grad before D scores it");
  const Tensor input_grad = gradient(sum(real_logits), real, true);
  // mean over the batch of each image's squared norm: the sum over all, over the batch size
  return sum(square(input_grad)) * (0.5f * gamma / static_cast<float>(input_grad.dim(0)));
}

}  // namespace cfgan
