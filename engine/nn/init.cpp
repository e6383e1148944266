#include "engine/nn/init.h"

#include <cmath>

#include "engine/error.h"

namespace cfgan {

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator() = Generator(seed); }

void init_normal(Tensor& t, float mean, float std, Generator& gen) {
  t.copy_(Tensor::randn(t.shape(), gen, t.device(), mean, std));
}

void init_uniform(Tensor& t, float lo, float hi, Generator& gen) {
  t.copy_(Tensor::rand(t.shape(), gen, t.device(), lo, hi));
}

int64_t fan_in(const Tensor& weight) {
  CFGAN_CHECK(weight.ndim() >= 2, "fan_in: weight of shape ", weight.shape().str(), " needs at least 2 dims");
  return weight.numel() / weight.dim(0);
}

int64_t fan_out(const Tensor& weight) {
  CFGAN_CHECK(weight.ndim() >= 2, "fan_out: weight of shape ", weight.shape().str(), " needs at least 2 dims");
  return weight.numel() / weight.dim(1);
}

namespace {

float leaky_relu_gain(float a) { return std::sqrt(2.0f / (1.0f + a * a)); }

}  // namespace

void init_kaiming_uniform(Tensor& weight, float a, Generator& gen) {
  const float bound = leaky_relu_gain(a) * std::sqrt(3.0f / static_cast<float>(fan_in(weight)));
  init_uniform(weight, -bound, bound, gen);
}

void init_kaiming_normal(Tensor& weight, float a, Generator& gen) {
  init_normal(weight, 0.0f, leaky_relu_gain(a) / std::sqrt(static_cast<float>(fan_in(weight))), gen);
}

void init_xavier_uniform(Tensor& weight, float gain, Generator& gen) {
  const float bound = gain * std::sqrt(6.0f / static_cast<float>(fan_in(weight) + fan_out(weight)));
  init_uniform(weight, -bound, bound, gen);
}

void init_xavier_normal(Tensor& weight, float gain, Generator& gen) {
  init_normal(weight, 0.0f, gain * std::sqrt(2.0f / static_cast<float>(fan_in(weight) + fan_out(weight))), gen);
}

}  // namespace cfgan
