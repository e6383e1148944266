// Kernels not written yet: each throws, so the table links while the backend is being
// built family by family. Every entry moves out of here into its family file.
#include <stdexcept>

#include "kernels/cuda/cuda.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace cfgan::CFGAN_CUDA_NS {

void fill(float* out, float value, int64_t n) {
  throw std::runtime_error("cuda kernel fill is not written yet");
}

void unary_forward(UnaryOp op, float alpha, float beta, float* out, const float* in, int64_t n) {
  throw std::runtime_error("cuda kernel unary_forward is not written yet");
}

void unary_backward(UnaryOp op, float alpha, float beta, float* din, const float* dout, const float* in, const float* out, int64_t n) {
  throw std::runtime_error("cuda kernel unary_backward is not written yet");
}

void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const BroadcastGeom& g) {
  throw std::runtime_error("cuda kernel binary_forward is not written yet");
}

void axpy(float* y, float alpha, const float* x, int64_t n) {
  throw std::runtime_error("cuda kernel axpy is not written yet");
}

void mul_accumulate(float* y, const float* a, const float* b, int64_t n) {
  throw std::runtime_error("cuda kernel mul_accumulate is not written yet");
}

void strided_copy(float* out, const float* src, const StridedGeom& g) {
  throw std::runtime_error("cuda kernel strided_copy is not written yet");
}

void strided_accumulate(float* dst, const float* src, const StridedGeom& g) {
  throw std::runtime_error("cuda kernel strided_accumulate is not written yet");
}

void reduce_sum(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, float scale) {
  throw std::runtime_error("cuda kernel reduce_sum is not written yet");
}

void reduce_sum_backward(float* din, const float* dout, int64_t outer, int64_t r, int64_t inner, float scale) {
  throw std::runtime_error("cuda kernel reduce_sum_backward is not written yet");
}

void reduce_max(float* out, int32_t* argmax, const float* in, int64_t outer, int64_t r, int64_t inner) {
  throw std::runtime_error("cuda kernel reduce_max is not written yet");
}

void reduce_max_backward(float* din, const float* dout, const int32_t* argmax, int64_t outer, int64_t r, int64_t inner) {
  throw std::runtime_error("cuda kernel reduce_max_backward is not written yet");
}

void softmax_forward(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, bool log) {
  throw std::runtime_error("cuda kernel softmax_forward is not written yet");
}

void softmax_backward(float* din, const float* dout, const float* out, int64_t outer, int64_t r, int64_t inner, bool log) {
  throw std::runtime_error("cuda kernel softmax_backward is not written yet");
}

void gemm(const GemmArgs& args) {
  throw std::runtime_error("cuda kernel gemm is not written yet");
}

void bias_add(float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner) {
  throw std::runtime_error("cuda kernel bias_add is not written yet");
}

void bias_backward(float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner) {
  throw std::runtime_error("cuda kernel bias_backward is not written yet");
}

int64_t conv_workspace_floats(const ConvGeom& g) {
  throw std::runtime_error("cuda kernel conv_workspace_floats is not written yet");
}

void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace) {
  throw std::runtime_error("cuda kernel conv2d_forward is not written yet");
}

void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g, float* workspace) {
  throw std::runtime_error("cuda kernel conv2d_backward_input is not written yet");
}

void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g, float* workspace) {
  throw std::runtime_error("cuda kernel conv2d_backward_weight is not written yet");
}

void batch_norm_forward_train(float* out, float* save_mean, float* save_invstd, float* running_mean, float* running_var, const float* in, const float* gamma, const float* beta, int64_t n, int64_t c, int64_t hw, float momentum, float eps) {
  throw std::runtime_error("cuda kernel batch_norm_forward_train is not written yet");
}

void batch_norm_forward_eval(float* out, const float* in, const float* running_mean, const float* running_var, const float* gamma, const float* beta, int64_t n, int64_t c, int64_t hw, float eps) {
  throw std::runtime_error("cuda kernel batch_norm_forward_eval is not written yet");
}

void batch_norm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in, const float* save_mean, const float* save_invstd, const float* gamma, int64_t n, int64_t c, int64_t hw) {
  throw std::runtime_error("cuda kernel batch_norm_backward is not written yet");
}

void batch_norm_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in, const float* running_mean, const float* running_var, const float* gamma, int64_t n, int64_t c, int64_t hw, float eps) {
  throw std::runtime_error("cuda kernel batch_norm_backward_eval is not written yet");
}

void max_pool2d_forward(float* out, int32_t* argmax, const float* in, const PoolGeom& g) {
  throw std::runtime_error("cuda kernel max_pool2d_forward is not written yet");
}

void max_pool2d_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeom& g) {
  throw std::runtime_error("cuda kernel max_pool2d_backward is not written yet");
}

void avg_pool2d_forward(float* out, const float* in, const PoolGeom& g) {
  throw std::runtime_error("cuda kernel avg_pool2d_forward is not written yet");
}

void avg_pool2d_backward(float* din, const float* dout, const PoolGeom& g) {
  throw std::runtime_error("cuda kernel avg_pool2d_backward is not written yet");
}

void upsample_nearest2d_forward(float* out, const float* in, int64_t planes, int64_t h, int64_t w, int64_t scale) {
  throw std::runtime_error("cuda kernel upsample_nearest2d_forward is not written yet");
}

void upsample_nearest2d_backward(float* din, const float* dout, int64_t planes, int64_t h, int64_t w, int64_t scale) {
  throw std::runtime_error("cuda kernel upsample_nearest2d_backward is not written yet");
}

void index_select_forward(float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer, int64_t dim, int64_t inner) {
  throw std::runtime_error("cuda kernel index_select_forward is not written yet");
}

void index_select_backward(float* din, const float* dout, const int32_t* idx, int64_t n_idx, int64_t outer, int64_t dim, int64_t inner) {
  throw std::runtime_error("cuda kernel index_select_backward is not written yet");
}

void bce_with_logits_forward(float* out, const float* logits, const float* target, int64_t n) {
  throw std::runtime_error("cuda kernel bce_with_logits_forward is not written yet");
}

void bce_with_logits_backward(float* dlogits, float* dtarget, const float* dout, const float* logits, const float* target, int64_t n) {
  throw std::runtime_error("cuda kernel bce_with_logits_backward is not written yet");
}

void cross_entropy_forward(float* loss, const float* logits, const int32_t* labels, int64_t rows, int64_t classes) {
  throw std::runtime_error("cuda kernel cross_entropy_forward is not written yet");
}

void cross_entropy_backward(float* dlogits, const float* dloss, const float* logits, const int32_t* labels, int64_t rows, int64_t classes) {
  throw std::runtime_error("cuda kernel cross_entropy_backward is not written yet");
}

void uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  throw std::runtime_error("cuda kernel uniform is not written yet");
}

void normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  throw std::runtime_error("cuda kernel normal is not written yet");
}

void dropout_forward(float* out, float* mask, const float* in, int64_t n, float p, uint64_t seed, uint64_t offset) {
  throw std::runtime_error("cuda kernel dropout_forward is not written yet");
}

void adam_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay, float bias_correction1, float bias_correction2) {
  throw std::runtime_error("cuda kernel adam_update is not written yet");
}

void sgd_update(float* param, const float* grad, float* momentum_buf, int64_t n, float lr, float momentum, float weight_decay, bool first_step) {
  throw std::runtime_error("cuda kernel sgd_update is not written yet");
}

}  // namespace cfgan::CFGAN_CUDA_NS
