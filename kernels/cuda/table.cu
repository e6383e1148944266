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

// Spelled out from the kernel list: every entry is filled, and one this backend does not
// define fails to link.
const Kernels& hand_kernels() {
  static const Kernels table{
      .name = kBackendName,
#define CFGAN_KERNEL(ret, fn, params) .fn = fn,
#include "kernels/kernel_list.h"
#undef CFGAN_KERNEL
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
