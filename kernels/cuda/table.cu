#include "kernels/cuda/cuda.h"

namespace cfgan::CFGAN_CUDA_NS {

#if defined(CFGAN_CUDA_EMU)
constexpr const char* kBackendName = "cuda (emulated)";
#else
constexpr const char* kBackendName = "cuda";
#endif

// Designated initializers: a kernel missing here is a compile error
// (-Werror=missing-field-initializers), not a null pointer at run time.
const Kernels& kernels() {
  static const Kernels table{
      .name = kBackendName,
      .alloc = alloc,
      .release = release,
      .copy_from_host = copy_from_host,
      .copy_to_host = copy_to_host,
      .copy = copy_device,
      .synchronize = synchronize,
      .fill = fill,
      .unary_forward = unary_forward,
      .unary_backward = unary_backward,
      .binary_forward = binary_forward,
      .axpy = axpy,
      .mul_accumulate = mul_accumulate,
      .strided_copy = strided_copy,
      .strided_accumulate = strided_accumulate,
      .reduce_sum = reduce_sum,
      .reduce_sum_backward = reduce_sum_backward,
      .reduce_max = reduce_max,
      .reduce_max_backward = reduce_max_backward,
      .softmax_forward = softmax_forward,
      .softmax_backward = softmax_backward,
      .gemm = gemm,
      .bias_add = bias_add,
      .bias_backward = bias_backward,
      .conv_workspace_floats = conv_workspace_floats,
      .conv2d_forward = conv2d_forward,
      .conv2d_backward_input = conv2d_backward_input,
      .conv2d_backward_weight = conv2d_backward_weight,
      .batch_norm_forward_train = batch_norm_forward_train,
      .batch_norm_forward_eval = batch_norm_forward_eval,
      .batch_norm_backward = batch_norm_backward,
      .batch_norm_backward_eval = batch_norm_backward_eval,
      .max_pool2d_forward = max_pool2d_forward,
      .max_pool2d_backward = max_pool2d_backward,
      .avg_pool2d_forward = avg_pool2d_forward,
      .avg_pool2d_backward = avg_pool2d_backward,
      .upsample_nearest2d_forward = upsample_nearest2d_forward,
      .upsample_nearest2d_backward = upsample_nearest2d_backward,
      .index_select_forward = index_select_forward,
      .index_select_backward = index_select_backward,
      .bce_with_logits_forward = bce_with_logits_forward,
      .bce_with_logits_backward = bce_with_logits_backward,
      .cross_entropy_forward = cross_entropy_forward,
      .cross_entropy_backward = cross_entropy_backward,
      .uniform = uniform,
      .normal = normal,
      .dropout_forward = dropout_forward,
      .adam_update = adam_update,
      .sgd_update = sgd_update,
  };
  return table;
}

}  // namespace cfgan::CFGAN_CUDA_NS
