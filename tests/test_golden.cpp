// Golden.*: outputs and gradients against PyTorch 1.13 (fixtures from
// tests/golden/make_fixtures.py). Unless a case says otherwise the tolerance is
// atol 1e-5 + rtol 1e-5: fp32 results whose sums run in a different order than
// PyTorch's differ by a few ulps of the largest partial sum (values here are O(1-10)).
#include <gtest/gtest.h>

#include <functional>

#include "engine/autograd.h"
#include "engine/nn/layers.h"
#include "engine/nn/spectral_norm.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "models/cdvae/latent.h"
#include "tests/golden_util.h"

using namespace cfgan;
using cfgan::testing::as_labels;
using cfgan::testing::expect_close;
using cfgan::testing::load_golden;

namespace {

constexpr float kAtol = 1e-5f, kRtol = 1e-5f;

Tensor param(const TensorMap& t, const std::string& name) {
  Tensor p = t.at(name).detach();
  p.requires_grad_(true);
  return p;
}

// Backward of sum(out * gout), the projection the fixtures used.
void backward_projected(const Tensor& out, const Tensor& gout) { out.backward(gout); }

}  // namespace

TEST(Golden, Conv2d) {
  const SafetensorsFile f = load_golden("conv2d");
  Tensor x = param(f.tensors, "x"), w = param(f.tensors, "w"), b = param(f.tensors, "b");
  Tensor out = conv2d(x, w, b, {.stride = 2, .padding = 1});
  expect_close(out, f.tensors.at("out"), kAtol, kRtol, "out");
  backward_projected(out, f.tensors.at("gout"));
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "dx");
  expect_close(w.grad(), f.tensors.at("dw"), kAtol, kRtol, "dw");
  expect_close(b.grad(), f.tensors.at("db"), kAtol, kRtol, "db");
}

TEST(Golden, ConvTranspose2d) {
  const SafetensorsFile f = load_golden("conv_transpose2d");
  Tensor x = param(f.tensors, "x"), w = param(f.tensors, "w"), b = param(f.tensors, "b");
  Tensor out = conv_transpose2d(x, w, b, {.stride = 2, .padding = 1});
  expect_close(out, f.tensors.at("out"), kAtol, kRtol, "out");
  backward_projected(out, f.tensors.at("gout"));
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "dx");
  expect_close(w.grad(), f.tensors.at("dw"), kAtol, kRtol, "dw");
  expect_close(b.grad(), f.tensors.at("db"), kAtol, kRtol, "db");
}

namespace {

void check_batch_norm(const std::string& name, bool training) {
  const SafetensorsFile f = load_golden(name);
  Tensor x = param(f.tensors, "x"), gamma = param(f.tensors, "gamma"), beta = param(f.tensors, "beta");
  Tensor running_mean = f.tensors.at("running_mean").detach(), running_var = f.tensors.at("running_var").detach();
  Tensor out = batch_norm(x, gamma, beta, running_mean, running_var, training, 0.1f, 1e-5f);
  expect_close(out, f.tensors.at("out"), kAtol, kRtol, "out");
  expect_close(running_mean, f.tensors.at("new_running_mean"), kAtol, kRtol, "running_mean");
  expect_close(running_var, f.tensors.at("new_running_var"), kAtol, kRtol, "running_var");
  backward_projected(out, f.tensors.at("gout"));
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "dx");
  expect_close(gamma.grad(), f.tensors.at("dgamma"), kAtol, kRtol, "dgamma");
  expect_close(beta.grad(), f.tensors.at("dbeta"), kAtol, kRtol, "dbeta");
}

}  // namespace

TEST(Golden, BatchNorm2dTrain) { check_batch_norm("batch_norm2d_train", true); }
TEST(Golden, BatchNorm2dEval) { check_batch_norm("batch_norm2d_eval", false); }
TEST(Golden, BatchNorm1dTrain) { check_batch_norm("batch_norm1d_train", true); }

TEST(Golden, Linear) {
  const SafetensorsFile f = load_golden("linear");
  Tensor x = param(f.tensors, "x"), w = param(f.tensors, "w"), b = param(f.tensors, "b");
  Tensor out = linear(x, w, b);
  expect_close(out, f.tensors.at("out"), kAtol, kRtol, "out");
  backward_projected(out, f.tensors.at("gout"));
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "dx");
  expect_close(w.grad(), f.tensors.at("dw"), kAtol, kRtol, "dw");
  expect_close(b.grad(), f.tensors.at("db"), kAtol, kRtol, "db");
}

TEST(Golden, BceWithLogits) {
  const SafetensorsFile f = load_golden("bce_with_logits");
  Tensor x = param(f.tensors, "x");
  Tensor loss = bce_with_logits(x, f.tensors.at("target"));
  expect_close(loss, f.tensors.at("loss"), kAtol, kRtol, "loss");
  loss.backward();
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "dx");
}

TEST(Golden, CrossEntropy) {
  const SafetensorsFile f = load_golden("cross_entropy");
  Tensor x = param(f.tensors, "x");
  Tensor loss = cross_entropy(x, as_labels(f.tensors.at("labels")));
  expect_close(loss, f.tensors.at("loss"), kAtol, kRtol, "loss");
  loss.backward();
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "dx");
}

TEST(Golden, Softmax) {
  const SafetensorsFile f = load_golden("softmax");
  Tensor x = param(f.tensors, "x");
  Tensor out = softmax(x, 1);
  expect_close(out, f.tensors.at("out"), kAtol, kRtol, "softmax");
  backward_projected(out, f.tensors.at("gout"));
  expect_close(x.grad(), f.tensors.at("dx"), kAtol, kRtol, "softmax dx");
  Tensor x2 = param(f.tensors, "x");
  Tensor log_out = log_softmax(x2, 1);
  expect_close(log_out, f.tensors.at("log_out"), kAtol, kRtol, "log_softmax");
  backward_projected(log_out, f.tensors.at("gout"));
  expect_close(x2.grad(), f.tensors.at("log_dx"), kAtol, kRtol, "log_softmax dx");
}

TEST(Golden, SpectralNorm) {
  const SafetensorsFile f = load_golden("spectral_norm");
  auto conv = std::make_shared<Conv2d>(3, 4, 3);
  SpectralNorm sn(conv);
  sn.weight_orig.copy_(f.tensors.at("weight_orig"));
  conv->bias.copy_(f.tensors.at("bias"));
  sn.weight_u.copy_(f.tensors.at("u0"));
  sn.weight_v.copy_(f.tensors.at("v0"));
  sn.train();
  Tensor out = sn(f.tensors.at("x"));
  expect_close(sn.weight_u, f.tensors.at("u1"), kAtol, kRtol, "u after one power iteration");
  expect_close(sn.weight_v, f.tensors.at("v1"), kAtol, kRtol, "v after one power iteration");
  expect_close(conv->weight, f.tensors.at("weight"), kAtol, kRtol, "normalized weight");
  expect_close(out, f.tensors.at("out"), kAtol, kRtol, "out");
  backward_projected(out, f.tensors.at("gout"));
  expect_close(sn.weight_orig.grad(), f.tensors.at("dweight_orig"), kAtol, kRtol, "dweight_orig");
  expect_close(conv->bias.grad(), f.tensors.at("dbias"), kAtol, kRtol, "dbias");
  const NamedTensors params = sn.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "weight_orig");
  EXPECT_EQ(params[1].first, "bias");
}

TEST(Golden, AdamSteps) {
  const SafetensorsFile f = load_golden("adam");
  Tensor p = param(f.tensors, "p0");
  Adam adam({{"p", p}}, {.lr = 2e-3f, .beta1 = 0.5f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f});
  for (const char* g : {"g1", "g2", "g3"}) {
    p.zero_grad();
    Tensor loss = sum(p * f.tensors.at(g));  // d loss / d p = g
    loss.backward();
    adam.step();
  }
  // Three updates of size ~lr: 1e-6 absolute is ~0.05% of one step.
  expect_close(p, f.tensors.at("p3"), 1e-6f, 1e-6f, "parameters after 3 steps");
  const NamedTensors state = adam.state_dict();
  expect_close(state[0].second, f.tensors.at("exp_avg"), 1e-6f, 1e-5f, "exp_avg");
  expect_close(state[1].second, f.tensors.at("exp_avg_sq"), 1e-7f, 1e-5f, "exp_avg_sq");
}

TEST(Golden, LatentKls) {
  // Against torch.distributions.kl_divergence (Normal vs N(0, 1); Bernoulli(logits) vs Bernoulli(p)).
  const SafetensorsFile f = load_golden("latent");
  Tensor mu = param(f.tensors, "mu"), logvar = param(f.tensors, "logvar"), logits = param(f.tensors, "logits");
  const Tensor kl_z = gaussian_kl(mu, logvar);
  expect_close(kl_z, f.tensors.at("kl_z"), kAtol, kRtol, "kl_z");
  kl_z.backward();
  expect_close(mu.grad(), f.tensors.at("dmu"), kAtol, kRtol, "dmu");
  expect_close(logvar.grad(), f.tensors.at("dlogvar"), kAtol, kRtol, "dlogvar");
  const Tensor kl_a = bernoulli_kl(logits, f.tensors.at("prior"));
  expect_close(kl_a, f.tensors.at("kl_a"), kAtol, kRtol, "kl_a");
  kl_a.backward();
  expect_close(logits.grad(), f.tensors.at("dlogits"), kAtol, kRtol, "dlogits");
}

namespace {

// One case of forward_ops: `fn` over fresh leaves of `inputs`, its output and the gradients
// of sum(out * gout) against PyTorch's.
void check_forward_case(const TensorMap& f, const std::string& name, const std::vector<std::string>& inputs,
                        const std::function<Tensor(const std::vector<Tensor>&)>& fn) {
  std::vector<Tensor> leaves;
  for (const std::string& input : inputs) leaves.push_back(param(f, input));
  const Tensor out = fn(leaves);
  expect_close(out, f.at(name + "_out"), kAtol, kRtol, name);
  backward_projected(out, f.at(name + "_gout"));
  for (size_t i = 0; i < leaves.size(); ++i)
    expect_close(leaves[i].grad(), f.at(name + "_d" + std::to_string(i)), kAtol, kRtol, name + " d" + inputs[i]);
}

}  // namespace

TEST(Golden, ForwardOps) {
  const TensorMap f = load_golden("forward_ops").tensors;
  check_forward_case(f, "maxpool", {"pool_x"}, [](auto& in) { return max_pool2d(in[0], 3, 2, 1); });
  check_forward_case(f, "avgpool", {"pool_x"}, [](auto& in) { return avg_pool2d(in[0], 3, 2, 1); });
  check_forward_case(f, "maxpool2", {"pool_x"}, [](auto& in) { return max_pool2d(in[0], 2); });
  check_forward_case(f, "upsample", {"pool_x"}, [](auto& in) { return upsample_nearest2d(in[0], 2); });
  check_forward_case(f, "leaky", {"act_x"}, [](auto& in) { return leaky_relu(in[0], 0.2f); });
  check_forward_case(f, "softplus", {"act_x"}, [](auto& in) { return softplus(in[0]); });
  check_forward_case(f, "mse", {"loss_x", "loss_t"}, [](auto& in) { return mse_loss(in[0], in[1]); });
  check_forward_case(f, "l1", {"loss_x", "loss_t"}, [](auto& in) { return l1_loss(in[0], in[1]); });
  const std::vector<int32_t> emb_idx = as_labels(f.at("emb_idx")), sel_idx = as_labels(f.at("sel_idx"));
  check_forward_case(f, "embedding", {"emb_w"}, [&](auto& in) { return embedding(in[0], emb_idx); });
  check_forward_case(f, "select", {"sel_x"}, [&](auto& in) { return index_select(in[0], 1, sel_idx); });
}
