// Losses, each the mean of a per-element (or per-row) loss.
#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

void check_same_shape(const char* op, const Tensor& x, const Tensor& target) {
  check_same_device(op, {{"input", &x}, {"target", &target}});
  CFGAN_CHECK(x.shape() == target.shape(), op, ": input ", x.shape().str(), " and target ", target.shape().str(),
              " must have the same shape");
}

}  // namespace

Tensor bce_with_logits(const Tensor& logits, const Tensor& target) {
  check_same_shape("bce_with_logits", logits, target);
  Tensor per_element = Tensor::empty(logits.shape(), logits.device());
  kern(logits).bce_with_logits_forward(per_element.data(), logits.data(), target.data(), logits.numel());
  record(per_element, "bce_with_logits", {logits, target}, [logits, target](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {  // d/dz = sigmoid(z) - t, d/dt = -z
      if (grads.needs(0)) grads.add(0, gout * (sigmoid(logits) - target));
      if (grads.needs(1)) grads.add(1, neg(gout * logits));
      return;
    }
    kern(gout).bce_with_logits_backward(grads.needs(0) ? grads.grad(0).data() : nullptr,
                                        grads.needs(1) ? grads.grad(1).data() : nullptr, gout.data(), logits.data(),
                                        target.data(), logits.numel());
  });
  return mean(per_element);
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels) {
  CFGAN_CHECK(logits.ndim() == 2, "cross_entropy: logits must be (N, classes), got ", logits.shape().str());
  const int64_t rows = logits.dim(0), classes = logits.dim(1);
  CFGAN_CHECK(static_cast<int64_t>(labels.size()) == rows, "cross_entropy: ", labels.size(), " labels for logits ",
              logits.shape().str());
  for (size_t i = 0; i < labels.size(); ++i) {
    CFGAN_CHECK(labels[i] >= 0 && labels[i] < classes, "cross_entropy: label ", labels[i], " at row ", i,
                " is outside [0, ", classes, ")");
  }
  auto idx = upload_indices(labels, logits.device());
  Tensor per_row = Tensor::empty(Shape{rows}, logits.device());
  kern(logits).cross_entropy_forward(per_row.data(), logits.data(), ints(idx), rows, classes);
  record(per_row, "cross_entropy", {logits}, [logits, idx, rows, classes](const Tensor& gout, GradSink& grads) {
    if (grads.create_graph()) {  // (softmax - one_hot(label)) per row, times the row's gradient
      std::vector<float> identity(static_cast<size_t>(classes * classes), 0.0f);
      for (int64_t c = 0; c < classes; ++c) identity[c * classes + c] = 1.0f;
      const Tensor eye = Tensor::from_host(Shape{classes, classes}, identity, logits.device());
      Tensor one_hot = Tensor::empty(logits.shape(), logits.device());  // the labels' rows of the identity
      kern(gout).index_select_forward(one_hot.data(), eye.data(), ints(idx), rows, 1, classes, classes);
      return grads.add(0, (softmax(logits, 1) - one_hot) * reshape(gout, Shape{rows, 1}));
    }
    kern(gout).cross_entropy_backward(grads.grad(0).data(), gout.data(), logits.data(), ints(idx), rows, classes);
  });
  return mean(per_row);
}

Tensor mse_loss(const Tensor& x, const Tensor& target) {
  check_same_shape("mse_loss", x, target);
  return mean(square(x - target));
}

Tensor l1_loss(const Tensor& x, const Tensor& target) {
  check_same_shape("l1_loss", x, target);
  return mean(abs(x - target));
}

}  // namespace cfgan
