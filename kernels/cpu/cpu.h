// The CPU backend's kernels: the reference implementation of kernels/kernel_list.h,
// where each is documented.
#pragma once

#include "kernels/kernels.h"

namespace cfgan::cpu {

// One function per entry of kernels/kernel_list.h, in the file of its family (conv.cpp, ...).
#define CFGAN_KERNEL(ret, fn, params) ret fn params;
#include "kernels/kernel_list.h"
#undef CFGAN_KERNEL

}  // namespace cfgan::cpu
