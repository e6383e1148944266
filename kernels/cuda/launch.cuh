// Kernel launches: the only place the <<<grid, block, shared_bytes, stream>>> syntax
// appears, so the emulated build (which has no such syntax) runs the very same
// calls. Launch with the macro, which names the kernel in errors:
//
//   CFGAN_LAUNCH(scale_kernel, grid, block, 0, stream, out, in, n);
//   CFGAN_LAUNCH((tile_kernel<64, 64>), grid, block, smem_bytes, stream, c, a, b);
//
// (a template kernel goes in parentheses so its commas do not split the macro).
// Failures throw std::runtime_error: on the device a bad launch (configuration,
// missing kernel image, ...) as reported by cudaGetLastError right after it; under
// the emulator cfgan::emu::KernelError also for the kernel breaking CUDA's rules
// (divergent barriers), since the whole grid runs inside the call.
#pragma once

#include <cstddef>
#include <utility>

#include "kernels/cuda/runtime.cuh"

#if !defined(CFGAN_CUDA_EMU)
#include <stdexcept>
#include <string>
#endif

namespace cfgan::CFGAN_CUDA_NS {

template <typename... Params, typename... Args>
void launch_kernel(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                   cudaStream_t stream, Args&&... args) {
#if defined(CFGAN_CUDA_EMU)
  ::cfgan::emu::launch(kernel_name, kernel, grid, block, shared_bytes, stream, std::forward<Args>(args)...);
#else
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
  const cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA kernel '") + kernel_name + "' failed to launch: " +
                             cudaGetErrorString(error));
  }
#endif
}

}  // namespace cfgan::CFGAN_CUDA_NS

#define CFGAN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                              \
  ::cfgan::CFGAN_CUDA_NS::launch_kernel(#kernel, kernel, grid, block, shared_bytes, stream \
                                        __VA_OPT__(, ) __VA_ARGS__)
