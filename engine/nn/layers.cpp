#include "engine/nn/layers.h"

#include <cmath>

#include "engine/error.h"
#include "engine/nn/init.h"

namespace cfgan {
namespace {

// PyTorch's default for Linear and Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
void default_init(Tensor& weight, Tensor& bias, int64_t fan) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan));
  init_uniform(weight, -bound, bound, default_generator());
  if (bias.defined()) init_uniform(bias, -bound, bound, default_generator());
}

}  // namespace

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) {
  CFGAN_CHECK(in_features > 0 && out_features > 0, "Linear: features must be positive, got ", in_features, " -> ",
              out_features);
  weight = Tensor::empty({out_features, in_features});
  if (with_bias) bias = Tensor::empty({out_features});
  default_init(weight, bias, in_features);
  register_parameter("weight", &weight);
  if (with_bias) register_parameter("bias", &bias);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

Dropout::Dropout(float p, Generator& noise) : p_(p), noise_(noise) {
  CFGAN_CHECK(p >= 0.0f && p < 1.0f, "Dropout: probability must be in [0, 1), got ", p);
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Conv2dOptions opt, bool with_bias)
    : options(opt) {
  CFGAN_CHECK(in_channels > 0 && out_channels > 0 && kernel > 0, "Conv2d: channels and kernel must be positive");
  weight = Tensor::empty({out_channels, in_channels, kernel, kernel});
  if (with_bias) bias = Tensor::empty({out_channels});
  default_init(weight, bias, in_channels * kernel * kernel);
  register_parameter("weight", &weight);
  if (with_bias) register_parameter("bias", &bias);
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, options); }

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Conv2dOptions opt,
                                 bool with_bias)
    : options(opt) {
  CFGAN_CHECK(in_channels > 0 && out_channels > 0 && kernel > 0,
              "ConvTranspose2d: channels and kernel must be positive");
  weight = Tensor::empty({in_channels, out_channels, kernel, kernel});
  if (with_bias) bias = Tensor::empty({out_channels});
  // PyTorch computes fan_in from weight.size(1) for transposed convs.
  default_init(weight, bias, out_channels * kernel * kernel);
  register_parameter("weight", &weight);
  if (with_bias) register_parameter("bias", &bias);
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return conv_transpose2d(x, weight, bias, options); }

BatchNorm::BatchNorm(int64_t channels, float eps_, float momentum_, bool affine) : eps(eps_), momentum(momentum_) {
  if (affine) {
    weight = Tensor::ones({channels});
    bias = Tensor::zeros({channels});
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
  running_mean = Tensor::zeros({channels});
  running_var = Tensor::ones({channels});
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
}

Tensor BatchNorm::forward(const Tensor& x) {
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
}

Embedding::Embedding(int64_t count, int64_t dim) {
  weight = Tensor::randn({count, dim}, default_generator());
  register_parameter("weight", &weight);
}

Tensor Embedding::forward(const std::vector<int32_t>& indices) { return embedding(weight, indices); }

std::shared_ptr<Module> ReLU() { return std::make_shared<Lambda>([](const Tensor& x) { return relu(x); }); }
std::shared_ptr<Module> LeakyReLU(float slope) {
  return std::make_shared<Lambda>([slope](const Tensor& x) { return leaky_relu(x, slope); });
}
std::shared_ptr<Module> Tanh() { return std::make_shared<Lambda>([](const Tensor& x) { return tanh(x); }); }
std::shared_ptr<Module> Sigmoid() { return std::make_shared<Lambda>([](const Tensor& x) { return sigmoid(x); }); }
std::shared_ptr<Module> Flatten() { return std::make_shared<Lambda>([](const Tensor& x) { return flatten(x, 1); }); }
std::shared_ptr<Module> Unflatten(const Shape& per_sample) {
  return std::make_shared<Lambda>([per_sample](const Tensor& x) {
    Shape shape{x.dim(0)};
    for (int64_t d : per_sample) shape.push_back(d);
    return reshape(x, shape);
  });
}

Sequential::Sequential(std::vector<std::shared_ptr<Module>> layers) {
  for (auto& layer : layers) add(std::move(layer));
}

void Sequential::add(std::shared_ptr<Module> layer) {
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& layer : layers_) h = layer->forward(h);
  return h;
}

}  // namespace cfgan
