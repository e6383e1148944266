#include "kernels/cpu/cpu.h"

namespace cfgan {

// Designated initializers: a kernel missing here is a compile error
// (-Werror=missing-field-initializers), not a null pointer at run time.
const Kernels& cpu_kernels() {
  static const Kernels table{
      .name = "cpu",
      .alloc = cpu::alloc,
      .release = cpu::release,
      .copy_from_host = cpu::copy_bytes,
      .copy_to_host = cpu::copy_bytes,
      .copy = cpu::copy_bytes,
      .synchronize = cpu::synchronize,
      .fill = cpu::fill,
      .unary_forward = cpu::unary_forward,
      .unary_backward = cpu::unary_backward,
      .binary_forward = cpu::binary_forward,
      .axpy = cpu::axpy,
      .mul_accumulate = cpu::mul_accumulate,
      .strided_copy = cpu::strided_copy,
      .strided_accumulate = cpu::strided_accumulate,
      .reduce_sum = cpu::reduce_sum,
      .reduce_sum_backward = cpu::reduce_sum_backward,
      .reduce_max = cpu::reduce_max,
      .reduce_max_backward = cpu::reduce_max_backward,
      .softmax_forward = cpu::softmax_forward,
      .softmax_backward = cpu::softmax_backward,
      .gemm = cpu::gemm,
      .bias_add = cpu::bias_add,
      .bias_backward = cpu::bias_backward,
      .conv_workspace_floats = cpu::conv_workspace_floats,
      .conv2d_forward = cpu::conv2d_forward,
      .conv2d_backward_input = cpu::conv2d_backward_input,
      .conv2d_backward_weight = cpu::conv2d_backward_weight,
      .batch_norm_forward_train = cpu::batch_norm_forward_train,
      .batch_norm_forward_eval = cpu::batch_norm_forward_eval,
      .batch_norm_backward = cpu::batch_norm_backward,
      .batch_norm_backward_eval = cpu::batch_norm_backward_eval,
      .max_pool2d_forward = cpu::max_pool2d_forward,
      .max_pool2d_backward = cpu::max_pool2d_backward,
      .avg_pool2d_forward = cpu::avg_pool2d_forward,
      .avg_pool2d_backward = cpu::avg_pool2d_backward,
      .upsample_nearest2d_forward = cpu::upsample_nearest2d_forward,
      .upsample_nearest2d_backward = cpu::upsample_nearest2d_backward,
      .index_select_forward = cpu::index_select_forward,
      .index_select_backward = cpu::index_select_backward,
      .bce_with_logits_forward = cpu::bce_with_logits_forward,
      .bce_with_logits_backward = cpu::bce_with_logits_backward,
      .cross_entropy_forward = cpu::cross_entropy_forward,
      .cross_entropy_backward = cpu::cross_entropy_backward,
      .uniform = cpu::uniform,
      .normal = cpu::normal,
      .dropout_forward = cpu::dropout_forward,
      .adam_update = cpu::adam_update,
      .sgd_update = cpu::sgd_update,
  };
  return table;
}

}  // namespace cfgan
