// Where a tensor's storage lives. Each device is served by one kernel table.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/kernels.h"

namespace cfgan {

enum class Device : uint8_t { cpu, cuda };

const char* device_name(Device d);

// The kernel table serving `d`. For cuda: the table set by use_cuda_kernels, else the
// GPU backend; throws a clear error when there is none.
const Kernels& kernels_for(Device d);

// Serves Device::cuda from `table` (the emulated backend in tests), or from the GPU
// backend again when null. No cuda tensor may outlive the switch.
void use_cuda_kernels(const Kernels* table);

// True when a CUDA device can run kernels (a GPU is present, or the emulator is selected).
bool cuda_available();

// "cpu", "cuda" or "auto" (cuda when available, else cpu); `flag` names the option in errors.
Device parse_device(const std::string& text, const std::string& flag = "--device");

}  // namespace cfgan
