#include "kernels/cpu/cpu.h"

namespace cfgan {

// Spelled out from the kernel list: every entry is filled, and one the CPU backend does
// not define fails to link.
const Kernels& cpu_kernels() {
  static const Kernels table{
      .name = "cpu",
#define CFGAN_KERNEL(ret, fn, params) .fn = cpu::fn,
#include "kernels/kernel_list.h"
#undef CFGAN_KERNEL
  };
  return table;
}

}  // namespace cfgan
