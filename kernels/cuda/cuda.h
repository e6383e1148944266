// The CUDA backend's kernels, in cfgan::cuda (nvcc) or cfgan::cuda_emu (the emulator,
// kernels/emu/): the same signatures as the CPU reference (kernels/cpu/cpu.h), all
// running on the default stream.
// Each is documented at its field in struct Kernels; shapes in the comments there.
#pragma once

#include "kernels/cuda/runtime.cuh"
#include "kernels/kernels.h"

namespace cfgan::CFGAN_CUDA_NS {

// memory.cu
void* alloc(size_t bytes);
void release(void* p);
void copy_from_host(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void copy_device(void* dst, const void* src, size_t bytes);
void synchronize();
int device_count();  // 0 when there is no GPU (or no driver)

// elementwise.cu
void fill(float* out, float value, int64_t n);
void unary_forward(UnaryOp op, float alpha, float beta, float* out, const float* in, int64_t n);
void unary_backward(UnaryOp op, float alpha, float beta, float* din, const float* dout, const float* in,
                    const float* out, int64_t n);
void binary_forward(BinaryOp op, float* out, const float* a, const float* b, const BroadcastGeom& g);
void axpy(float* y, float alpha, const float* x, int64_t n);
void mul_accumulate(float* y, const float* a, const float* b, int64_t n);
void strided_copy(float* out, const float* src, const StridedGeom& g);
void strided_accumulate(float* dst, const float* src, const StridedGeom& g);

// reduce.cu
void reduce_sum(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, float scale);
void reduce_sum_backward(float* din, const float* dout, int64_t outer, int64_t r, int64_t inner, float scale);
void reduce_max(float* out, int32_t* argmax, const float* in, int64_t outer, int64_t r, int64_t inner);
void reduce_max_backward(float* din, const float* dout, const int32_t* argmax, int64_t outer, int64_t r,
                         int64_t inner);

// softmax.cu
void softmax_forward(float* out, const float* in, int64_t outer, int64_t r, int64_t inner, bool log);
void softmax_backward(float* din, const float* dout, const float* out, int64_t outer, int64_t r, int64_t inner,
                      bool log);

// gemm.cu
void gemm(const GemmArgs& args);
// bias.cu
void bias_add(float* out, const float* bias, int64_t outer, int64_t channels, int64_t inner);
void bias_backward(float* dbias, const float* dout, int64_t outer, int64_t channels, int64_t inner);

// conv.cu
int64_t conv_workspace_floats(const ConvGeom& g);
void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace);
void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                           float* workspace);
void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                            float* workspace);

// batch_norm.cu
void batch_norm_forward_train(float* out, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, const float* in, const float* gamma, const float* beta, int64_t n,
                              int64_t c, int64_t hw, float momentum, float eps);
void batch_norm_forward_eval(float* out, const float* in, const float* running_mean, const float* running_var,
                             const float* gamma, const float* beta, int64_t n, int64_t c, int64_t hw, float eps);
void batch_norm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                         const float* save_mean, const float* save_invstd, const float* gamma, int64_t n, int64_t c,
                         int64_t hw);
void batch_norm_backward_eval(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                              const float* running_mean, const float* running_var, const float* gamma, int64_t n,
                              int64_t c, int64_t hw, float eps);

// pool.cu
void max_pool2d_forward(float* out, int32_t* argmax, const float* in, const PoolGeom& g);
void max_pool2d_backward(float* din, const float* dout, const int32_t* argmax, const PoolGeom& g);
void avg_pool2d_forward(float* out, const float* in, const PoolGeom& g);
void avg_pool2d_backward(float* din, const float* dout, const PoolGeom& g);
void upsample_nearest2d_forward(float* out, const float* in, int64_t planes, int64_t h, int64_t w, int64_t scale);
void upsample_nearest2d_backward(float* din, const float* dout, int64_t planes, int64_t h, int64_t w,
                                 int64_t scale);

// index.cu
void index_select_forward(float* out, const float* in, const int32_t* idx, int64_t n_idx, int64_t outer,
                          int64_t dim, int64_t inner);
void index_select_backward(float* din, const float* dout, const int32_t* idx, int64_t n_idx, int64_t outer,
                           int64_t dim, int64_t inner);

// loss.cu
void bce_with_logits_forward(float* out, const float* logits, const float* target, int64_t n);
void bce_with_logits_backward(float* dlogits, float* dtarget, const float* dout, const float* logits,
                              const float* target, int64_t n);
void cross_entropy_forward(float* loss, const float* logits, const int32_t* labels, int64_t rows, int64_t classes);
void cross_entropy_backward(float* dlogits, const float* dloss, const float* logits, const int32_t* labels,
                            int64_t rows, int64_t classes);

// random.cu
void uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);
void dropout_forward(float* out, float* mask, const float* in, int64_t n, float p, uint64_t seed, uint64_t offset);

// optim.cu
void adam_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                 float eps, float weight_decay, float bias_correction1, float bias_correction2);
void sgd_update(float* param, const float* grad, float* momentum_buf, int64_t n, float lr, float momentum,
                float weight_decay, bool first_step);

// table.cu: the table of our kernels, and the one the engine uses: ours, or on the
// real backend with CFGAN_KERNELS=vendor cuBLAS / cuDNN for gemm and conv
// (vendor_kernels, declared in kernels/cuda_backends.h).
const Kernels& hand_kernels();
const Kernels& kernels();

}  // namespace cfgan::CFGAN_CUDA_NS
