#include "models/explain/attribution.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "models/classifier.h"

namespace cfgan {

namespace {

// (N, K) with a 1 at (i, target[i]): multiplying the logits by it and summing picks each row's score.
Tensor target_mask(const std::vector<int64_t>& target, int64_t rows, int64_t outputs, Device device) {
  CFGAN_CHECK(static_cast<int64_t>(target.size()) == rows, "attribution: ", target.size(), " targets for ", rows,
              " images");
  std::vector<float> mask(static_cast<size_t>(rows * outputs), 0.0f);
  for (int64_t i = 0; i < rows; ++i) {
    CFGAN_CHECK(target[i] >= 0 && target[i] < outputs, "attribution: target ", target[i], " of image ", i,
                " is not one of the model's ", outputs, " outputs");
    mask[static_cast<size_t>(i * outputs + target[i])] = 1.0f;
  }
  return Tensor::from_host({rows, outputs}, mask, device);
}

// The gradient of sum_i logits[i, target[i]] with respect to a fresh leaf holding `input`'s
// values, and the per-row scores: rows do not interact, so one backward gives every row's own gradient.
ScoreGradient gradient_at(const std::function<Tensor(const Tensor&)>& logits_of, const Tensor& input,
                          const std::vector<int64_t>& target) {
  Tensor leaf = Tensor::empty(input.shape(), input.device());
  leaf.copy_(input);
  leaf.requires_grad_();
  const Tensor logits = logits_of(leaf);
  CFGAN_CHECK(logits.ndim() == 2 && logits.dim(0) == input.dim(0),
              "attribution: the model must give (N, K) logits "
              "for ",
              input.dim(0), " inputs, got ", logits.shape().str());
  const Tensor picked = sum(logits * target_mask(target, logits.dim(0), logits.dim(1), input.device()), {1});
  ScoreGradient out;
  out.scores = picked.detach().to_host();
  sum(picked).backward();
  out.grad = leaf.grad().defined() ? leaf.grad() : Tensor::zeros(input.shape(), input.device());
  return out;
}

}  // namespace

ScoreGradient score_gradient(const LogitsFn& model, const Tensor& x, const std::vector<int64_t>& target) {
  return gradient_at(model, x, target);
}

Tensor saliency(const LogitsFn& model, const Tensor& x, const std::vector<int64_t>& target) {
  const Tensor grad = score_gradient(model, x, target).grad;
  NoGrad no_grad;
  return abs(grad);
}

Tensor gradient_x_input(const LogitsFn& model, const Tensor& x, const std::vector<int64_t>& target) {
  const Tensor grad = score_gradient(model, x, target).grad;
  NoGrad no_grad;
  return x.detach() * grad;
}

Tensor integrated_gradients(const LogitsFn& model, const Tensor& x, const Tensor& baseline,
                            const std::vector<int64_t>& target, int64_t steps) {
  CFGAN_CHECK(steps >= 1, "integrated gradients: steps must be >= 1, got ", steps);
  CFGAN_CHECK(baseline.ndim() == x.ndim() && (baseline.dim(0) == x.dim(0) || baseline.dim(0) == 1) &&
                  std::equal(x.shape().begin() + 1, x.shape().end(), baseline.shape().begin() + 1),
              "integrated gradients: baseline ", baseline.shape().str(), " does not match the images ",
              x.shape().str());
  Tensor delta, total = Tensor::zeros(x.shape(), x.device());
  {
    NoGrad no_grad;
    delta = x.detach() - baseline.detach();
  }
  for (int64_t k = 0; k < steps; ++k) {
    const float alpha = (static_cast<float>(k) + 0.5f) / static_cast<float>(steps);
    Tensor point;
    {
      NoGrad no_grad;
      point = baseline.detach() + delta * alpha;
    }
    const Tensor grad = score_gradient(model, point, target).grad;
    NoGrad no_grad;
    total = total + grad;
  }
  NoGrad no_grad;
  return delta * total / static_cast<float>(steps);
}

Tensor grad_cam(const BlockSplit& model, const Tensor& x, const std::vector<int64_t>& target) {
  CFGAN_CHECK(x.ndim() == 4, "grad-cam: images must be (N, C, H, W), got ", x.shape().str());
  Tensor map;
  {
    NoGrad no_grad;
    map = model.to_block(x.detach());
  }
  CFGAN_CHECK(map.ndim() == 4, "grad-cam: the block's output must be (N, K, h, w), got ", map.shape().str());
  const Tensor grad = gradient_at(model.from_block, map, target).grad;
  NoGrad no_grad;
  const Tensor weights = mean(grad, {2, 3}, true);         // (N, K, 1, 1)
  const Tensor cam = relu(sum(weights * map, {1}, true));  // (N, 1, h, w)
  return upsample_bilinear(cam, x.dim(2), x.dim(3));
}

Tensor upsample_bilinear(const Tensor& maps, int64_t height, int64_t width) {
  CFGAN_CHECK(maps.ndim() == 4 && maps.dim(1) == 1, "upsample_bilinear: expected (N, 1, h, w), got ",
              maps.shape().str());
  const int64_t n = maps.dim(0), h = maps.dim(2), w = maps.dim(3);
  const std::vector<float> in = maps.to_host();
  std::vector<float> out(static_cast<size_t>(n * height * width));
  // Source coordinate of an output pixel's centre, clamped to the first and last source centre.
  auto source = [](int64_t i, int64_t in_size, int64_t out_size, int64_t& lo, int64_t& hi, float& t) {
    const float s =
        std::clamp((static_cast<float>(i) + 0.5f) * static_cast<float>(in_size) / static_cast<float>(out_size) - 0.5f,
                   0.0f, static_cast<float>(in_size - 1));
    lo = static_cast<int64_t>(std::floor(s));
    hi = std::min(lo + 1, in_size - 1);
    t = s - static_cast<float>(lo);
  };
  for (int64_t b = 0; b < n; ++b) {
    const float* src = in.data() + b * h * w;
    for (int64_t y = 0; y < height; ++y) {
      int64_t y0, y1;
      float ty;
      source(y, h, height, y0, y1, ty);
      for (int64_t x = 0; x < width; ++x) {
        int64_t x0, x1;
        float tx;
        source(x, w, width, x0, x1, tx);
        const float top = src[y0 * w + x0] * (1 - tx) + src[y0 * w + x1] * tx;
        const float bottom = src[y1 * w + x0] * (1 - tx) + src[y1 * w + x1] * tx;
        out[static_cast<size_t>((b * height + y) * width + x)] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return Tensor::from_host({n, 1, height, width}, out, maps.device());
}

const std::vector<std::string>& attribution_methods() {
  static const std::vector<std::string> names{"saliency", "gradient_x_input", "integrated_gradients", "grad_cam"};
  return names;
}

Tensor attribute(const std::string& method, Classifier& model, const Tensor& x, const std::vector<int64_t>& target,
                 const AttributionOptions& options) {
  const LogitsFn logits = [&](const Tensor& images) { return model.logits(images); };
  if (method == "saliency") return saliency(logits, x, target);
  if (method == "gradient_x_input") return gradient_x_input(logits, x, target);
  if (method == "integrated_gradients") {
    const Tensor baseline = Tensor::full({1, x.dim(1), x.dim(2), x.dim(3)}, options.ig_baseline, x.device());
    return integrated_gradients(logits, x, baseline, target, options.ig_steps);
  }
  if (method == "grad_cam") {
    const std::string block = options.cam_block;
    return grad_cam({[&](const Tensor& images) { return model.block_output(images, block); },
                     [&](const Tensor& map) { return model.logits_from_block(block, map); }},
                    x, target);
  }
  fail("attribution: unknown method '", method, "' (saliency, gradient_x_input, integrated_gradients, grad_cam)");
}

}  // namespace cfgan
