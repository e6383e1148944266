#include "engine/device.h"

#include "engine/error.h"

namespace cfgan {

const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

const Kernels& kernels_for(Device d) {
  if (d == Device::cpu) return cpu_kernels();
  fail("device cuda: this build of cfgan has no CUDA backend yet; use --device cpu");
}

bool cuda_available() { return false; }

Device parse_device(const std::string& text, const std::string& flag) {
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") {
    CFGAN_CHECK(cuda_available(), flag, " cuda: no CUDA device is available on this machine");
    return Device::cuda;
  }
  if (text == "auto") return cuda_available() ? Device::cuda : Device::cpu;
  fail(flag, ": expected cpu, cuda or auto, got '", text, "'");
}

}  // namespace cfgan
