#include "engine/device.h"

#include "engine/error.h"
#include "engine/storage.h"
#include "kernels/cuda_backends.h"

namespace cfgan {
namespace {

const Kernels* g_cuda_override = nullptr;

// The GPU backend when this build has one and the machine has a GPU.
const Kernels* device_cuda_kernels() {
#if defined(CFGAN_HAVE_CUDA)
  static const Kernels* table = cuda::device_count() > 0 ? &cuda::kernels() : nullptr;
  return table;
#else
  return nullptr;
#endif
}

}  // namespace

const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

const Kernels& kernels_for(Device d) {
  if (d == Device::cpu) return cpu_kernels();
  if (g_cuda_override) return *g_cuda_override;
  if (const Kernels* table = device_cuda_kernels()) return *table;
#if defined(CFGAN_HAVE_CUDA)
  fail("device cuda: no CUDA GPU is available (cudaGetDeviceCount finds none; is the NVIDIA driver loaded?); "
       "use --device cpu");
#else
  fail("device cuda: this build of cfgan has no CUDA backend (nvcc was not found when it was configured); "
       "use --device cpu");
#endif
}

void use_cuda_kernels(const Kernels* table) {
  Allocator::get(Device::cuda).empty_cache();  // blocks belong to the backend that made them
  g_cuda_override = table;
}

bool cuda_available() { return g_cuda_override || device_cuda_kernels(); }

Device parse_device(const std::string& text, const std::string& flag) {
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") {
    kernels_for(Device::cuda);  // fails with the reason when there is no usable backend
    return Device::cuda;
  }
  if (text == "auto") return cuda_available() ? Device::cuda : Device::cpu;
  fail(flag, ": expected cpu, cuda or auto, got '", text, "'");
}

}  // namespace cfgan
