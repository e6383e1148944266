#include "kernels/cuda/cuda.h"

#if !defined(CFGAN_CUDA_EMU)
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/cuda/vendor/vendor.h"
#endif

namespace cfgan::CFGAN_CUDA_NS {

#if defined(CFGAN_CUDA_EMU)
constexpr const char* kBackendName = "cuda (emulated)";
#else
constexpr const char* kBackendName = "cuda";
#endif

// Designated initializers: a kernel missing here is a compile error
// (-Werror=missing-field-initializers), not a null pointer at run time.
const Kernels& hand_kernels() {
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

#if defined(CFGAN_CUDA_EMU)

const Kernels& kernels() { return hand_kernels(); }

#else

// Our kernels with cuBLAS / cuDNN in place of gemm and the convolutions: the baselines.
const Kernels& vendor_kernels() {
  static const Kernels table = [] {
    Kernels t = hand_kernels();
    t.name = "cuda (cuBLAS/cuDNN gemm and conv)";
    t.gemm = vendor::gemm;
    t.conv_workspace_floats = vendor::conv_workspace_floats;
    t.conv2d_forward = vendor::conv2d_forward;
    t.conv2d_backward_input = vendor::conv2d_backward_input;
    t.conv2d_backward_weight = vendor::conv2d_backward_weight;
    return t;
  }();
  return table;
}

// CFGAN_KERNELS=hand (the default, also when empty) or vendor, read once.
const Kernels& kernels() {
  static const Kernels& table = []() -> const Kernels& {
    const char* value = std::getenv("CFGAN_KERNELS");
    const std::string choice = value ? value : "";
    if (choice.empty() || choice == "hand") return hand_kernels();
    if (choice == "vendor") return vendor_kernels();
    throw std::runtime_error("CFGAN_KERNELS: expected 'hand' or 'vendor', got '" + choice + "'");
  }();
  return table;
}

#endif

}  // namespace cfgan::CFGAN_CUDA_NS
