#include <array>
#include <optional>
#include <span>

#include "engine/ops.h"
#include "engine/ops/op_util.h"

namespace cfgan {
namespace {

// Batch norm's backward with the public ops, for a walk that records its graph. In training
// the batch statistics are recomputed from x, so that their dependence on x is recorded
// too; in eval the running statistics are constants. rm / rv are undefined in training.
void batch_norm_backward_recorded(const Tensor& gout, GradSink& grads, const Tensor& x, const Tensor& gamma,
                                  const Tensor& rm, const Tensor& rv, bool training, float eps) {
  std::array<int, kMaxDims> all_but_channels{};  // 0, 2, 3, ...
  Shape per_channel{1, x.dim(1)};                // broadcasts against x
  for (int d = 2; d < x.ndim(); ++d) all_but_channels[d - 1] = d, per_channel.push_back(1);
  const std::span<const int> dims(all_but_channels.data(), x.ndim() - 1);
  const auto mean_over = [&](const Tensor& t) { return reduce_dims("mean", t, dims, true, true); };
  const auto sum_over = [&](const Tensor& t) { return reduce_dims("sum", t, dims, false, false); };
  Tensor xhat, invstd;
  if (training) {
    const Tensor centered = x - mean_over(x);
    invstd = pow(mean_over(square(centered)) + eps, -0.5f);
    xhat = centered * invstd;
  } else {
    invstd = reshape(pow(rv + eps, -0.5f), per_channel);
    xhat = (x - reshape(rm, per_channel)) * invstd;
  }
  if (grads.needs(0)) {
    const Tensor dxhat = gamma.defined() ? gout * reshape(gamma, per_channel) : gout;
    grads.add(0, training ? invstd * (dxhat - mean_over(dxhat) - xhat * mean_over(dxhat * xhat)) : dxhat * invstd);
  }
  if (grads.needs(1)) grads.add(1, sum_over(gout * xhat));
  if (grads.needs(2)) grads.add(2, sum_over(gout));
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, float momentum, float eps) {
  check_same_device("batch_norm", {{"input", &x},
                                   {"weight", &gamma},
                                   {"bias", &beta},
                                   {"running_mean", &running_mean},
                                   {"running_var", &running_var}});
  CFGAN_CHECK(x.ndim() >= 2, "batch_norm: input must be (N,C) or (N,C,...), got ", x.shape().str());
  const int64_t n = x.dim(0), c = x.dim(1), hw = extent_product(x.shape(), 2, x.ndim());
  for (const auto& [name, t] : {std::pair{"weight", &gamma}, std::pair{"bias", &beta},
                                std::pair{"running_mean", &running_mean}, std::pair{"running_var", &running_var}}) {
    CFGAN_CHECK(!t->defined() || (t->ndim() == 1 && t->dim(0) == c), "batch_norm: ", name, " has shape ",
                t->shape().str(), ", input ", x.shape().str(), " has ", c, " channels");
  }
  CFGAN_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: running_mean and running_var must both be given or both be absent");
  const float* g = gamma.defined() ? gamma.data() : nullptr;
  const float* b = beta.defined() ? beta.data() : nullptr;
  Tensor out = Tensor::empty(x.shape(), x.device());
  const Kernels& k = kern(x);
  if (!training) {
    CFGAN_CHECK(running_mean.defined(), "batch_norm: eval mode needs running statistics");
    k.batch_norm_forward_eval(out.data(), x.data(), running_mean.data(), running_var.data(), g, b, n, c, hw, eps);
    record(out, "batch_norm", {x, gamma, beta},
           [x, gamma, rm = running_mean.detach(), rv = running_var.detach(), n, c, hw, eps](const Tensor& gout,
                                                                                            GradSink& grads) {
             if (grads.create_graph()) return batch_norm_backward_recorded(gout, grads, x, gamma, rm, rv, false, eps);
             const Kernels& kg = kern(gout);
             kg.batch_norm_backward_eval(grads.needs(0) ? grads.grad(0).data() : nullptr,
                                         grads.needs(1) ? grads.grad(1).data() : nullptr,
                                         grads.needs(2) ? grads.grad(2).data() : nullptr, gout.data(), x.data(),
                                         rm.data(), rv.data(), gamma.defined() ? gamma.data() : nullptr, n, c, hw, eps,
                                         workspace_of(scratch(kg.batch_norm_workspace_bytes(n, c, hw), gout.device())));
           });
    return out;
  }
  CFGAN_CHECK(n * hw > 1, "batch_norm: training needs more than one value per channel, input is ", x.shape().str());
  Tensor save_mean = Tensor::empty(Shape{c}, x.device()), save_invstd = Tensor::empty(Shape{c}, x.device());
  k.batch_norm_forward_train(out.data(), save_mean.data(), save_invstd.data(),
                             running_mean.defined() ? running_mean.data() : nullptr,
                             running_var.defined() ? running_var.data() : nullptr, x.data(), g, b, n, c, hw, momentum,
                             eps, workspace_of(scratch(k.batch_norm_workspace_bytes(n, c, hw), x.device())));
  record(out, "batch_norm", {x, gamma, beta},
         [x, gamma, save_mean, save_invstd, n, c, hw, eps](const Tensor& gout, GradSink& grads) {
           if (grads.create_graph()) {
             return batch_norm_backward_recorded(gout, grads, x, gamma, Tensor(), Tensor(), true, eps);
           }
           const Kernels& kg = kern(gout);
           const std::optional<GradTarget> dx = grads.needs(0) ? std::optional(grads.target(0)) : std::nullopt;
           kg.batch_norm_backward(dx ? dx->grad.data() : nullptr, grads.needs(1) ? grads.grad(1).data() : nullptr,
                                  grads.needs(2) ? grads.grad(2).data() : nullptr, gout.data(), x.data(),
                                  save_mean.data(), save_invstd.data(), gamma.defined() ? gamma.data() : nullptr, n, c,
                                  hw, workspace_of(scratch(kg.batch_norm_workspace_bytes(n, c, hw), gout.device())),
                                  !dx || !dx->fresh);
         });
  return out;
}

}  // namespace cfgan
