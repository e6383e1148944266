// The layers GANs and classifiers are built from. Default initialization follows
// PyTorch (Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
// for weights and biases), drawn from default_generator().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "engine/ops.h"

namespace cfgan {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight;  // (out, in)
  Tensor bias;    // (out) or undefined
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Conv2dOptions opt = {}, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight;  // (out, in, k, k)
  Tensor bias;
  Conv2dOptions options;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Conv2dOptions opt = {},
                  bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight;  // (in, out, k, k), PyTorch's layout
  Tensor bias;
  Conv2dOptions options;
};

// Batch norm over dim 1 of (N,C) or (N,C,H,W) inputs: BatchNorm1d and BatchNorm2d in one.
class BatchNorm : public Module {
 public:
  explicit BatchNorm(int64_t channels, float eps = 1e-5f, float momentum = 0.1f, bool affine = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;             // gamma = 1, beta = 0 (undefined when not affine)
  Tensor running_mean, running_var;  // buffers
  float eps, momentum;
};
using BatchNorm1d = BatchNorm;
using BatchNorm2d = BatchNorm;

class Embedding : public Module {
 public:
  Embedding(int64_t count, int64_t dim);  // weight ~ N(0, 1), as PyTorch
  Tensor forward(const std::vector<int32_t>& indices);
  Tensor weight;  // (count, dim)
};

// Inverted dropout (engine/ops dropout): in training each element is zeroed with probability
// p and the survivors scaled by 1 / (1 - p), so eval mode is the identity with the same
// expected activations. The mask comes from `noise`, which the owner keeps (and checkpoints:
// its offset is what a resumed run needs to draw the same masks).
class Dropout : public Module {
 public:
  Dropout(float p, Generator& noise);
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training(), noise_); }

 private:
  float p_;
  Generator& noise_;
};

// A parameter-free function as a module, for Sequential (activations, reshapes).
class Lambda : public Module {
 public:
  explicit Lambda(std::function<Tensor(const Tensor&)> fn) : fn_(std::move(fn)) {}
  Tensor forward(const Tensor& x) override { return fn_(x); }

 private:
  std::function<Tensor(const Tensor&)> fn_;
};

std::shared_ptr<Module> ReLU();
std::shared_ptr<Module> LeakyReLU(float negative_slope);
std::shared_ptr<Module> Tanh();
std::shared_ptr<Module> Sigmoid();
std::shared_ptr<Module> Flatten();
std::shared_ptr<Module> Unflatten(const Shape& per_sample);  // (N, prod) -> (N, per_sample...)

// Children named "0", "1", ... applied in order.
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> layers);
  void add(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t i) { return *layers_[i]; }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace cfgan
