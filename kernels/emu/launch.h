// Launching a kernel on the emulator: the arguments are converted to the kernel's
// parameter types once (as <<<>>> does), then run_grid runs every block, in
// parallel over OS threads, each block's threads as fibers (scheduler.h). The
// launch returns when the grid has finished; the stream is therefore irrelevant.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/emu/runtime_api.h"
#include "kernels/emu/types.h"

namespace cfgan::emu {

// A launch that would fail on the device (bad configuration) or a kernel that broke
// the rules the device relies on (divergent barrier, ...). The message starts with
// "emulated kernel '<name>': ".
class KernelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

struct LaunchPlan {
  const char* kernel_name;
  dim3 grid, block;
  size_t shared_bytes;
  void (*run_thread)(const void* bound);  // runs the kernel once, for the current threadIdx
  const void* bound;                      // the kernel and its arguments
};

// Checks the configuration like the device would, then runs all blocks; throws
// KernelError.
void run_grid(const LaunchPlan& plan);

}  // namespace detail

template <typename... Params, typename... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            cudaStream_t /*stream*/, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "launch: wrong number of kernel arguments");
  struct Bound {
    void (*kernel)(Params...);
    std::tuple<std::decay_t<Params>...> args;
  };
  const Bound bound{kernel, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
  const detail::LaunchPlan plan{
      kernel_name, grid, block, shared_bytes,
      [](const void* p) {
        const Bound& b = *static_cast<const Bound*>(p);
        std::apply(b.kernel, b.args);
      },
      &bound};
  detail::run_grid(plan);
}

}  // namespace cfgan::emu
