// Threading thresholds for the CPU kernels: below these sizes the cost of waking
// OpenMP threads exceeds the work, so loops run on the calling thread.
#pragma once

#include <cstdint>

namespace cfgan::cpu {

constexpr int64_t kParallelElements = 1 << 15;  // elementwise loops
constexpr int64_t kParallelRows = 16;           // row-wise loops whose rows are long
constexpr int64_t kMinFmasPerThread = 1 << 19;  // GEMMs and convolutions: multiply-adds per thread

}  // namespace cfgan::cpu
