// A first look at the engine: an MLP learns to separate two interleaved spirals,
// printing the loss as it falls. Replaced as the main job by train_gan.
#include <cmath>
#include <cstdio>

#include "engine/engine.h"

using namespace cfgan;

int main() {
  constexpr int kPoints = 512;
  std::vector<float> xs, ys;
  Generator noise(7);
  const std::vector<float> jitter = Tensor::randn({2 * kPoints}, noise, Device::cpu, 0.0f, 0.05f).to_host();
  for (int i = 0; i < kPoints; ++i) {
    const int label = i % 2;
    const float t = 3.0f * static_cast<float>(i / 2) / (kPoints / 2);
    const float angle = 3.14159265f * (2.0f * t + label);
    xs.push_back(t * std::cos(angle) + jitter[2 * i]);
    xs.push_back(t * std::sin(angle) + jitter[2 * i + 1]);
    ys.push_back(static_cast<float>(label));
  }
  const Tensor x = Tensor::from_host({kPoints, 2}, xs), y = Tensor::from_host({kPoints, 1}, ys);

  manual_seed(1);
  Sequential net({std::make_shared<Linear>(2, 64), ReLU(), std::make_shared<Linear>(64, 64), ReLU(),
                  std::make_shared<Linear>(64, 1)});
  Adam adam(net.named_parameters(), {.lr = 3e-3f});
  std::printf("demo_mlp: two spirals, %d points, MLP 2-64-64-1, Adam\n", kPoints);
  for (int step = 1; step <= 2000; ++step) {
    adam.zero_grad();
    const Tensor logits = net(x);
    const Tensor loss = bce_with_logits(logits, y);
    loss.backward();
    adam.step();
    if (step % 200 == 0) {
      NoGrad no_grad;
      const std::vector<float> p = logits.to_host();
      int correct = 0;
      for (int i = 0; i < kPoints; ++i) correct += (p[i] > 0) == (ys[i] > 0.5f);
      std::printf("step %4d  loss %.4f  accuracy %.1f%%\n", step, loss.item(), 100.0 * correct / kPoints);
    }
  }
  return 0;
}
