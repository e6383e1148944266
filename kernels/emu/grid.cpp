// Runs a launch: checks the configuration as the device would, then spreads the
// blocks over OpenMP threads. Blocks are independent by CUDA's rules, so any order
// and any parallelism is legal; each OS thread runs its blocks one at a time on its
// own BlockScheduler (fibers, shared memory). OMP_NUM_THREADS=1 runs them in order.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdint>
#include <mutex>
#include <string>

#include "kernels/emu/launch.h"
#include "kernels/emu/scheduler.h"

namespace cfgan::emu::detail {

namespace {

std::string format_dim(dim3 d) {
  char text[48];
  std::snprintf(text, sizeof text, "(%u,%u,%u)", d.x, d.y, d.z);
  return text;
}

// The device's launch limits (compute capability 7.0 and later). An empty grid is
// an error there too ("invalid configuration argument"), so it is one here.
std::string configuration_problem(const LaunchPlan& plan) {
  const dim3 b = plan.block, g = plan.grid;
  const uint64_t threads = uint64_t{b.x} * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || threads > 1024 || b.z > 64) {
    return "block " + format_dim(b) + " must have 1 to 1024 threads and z <= 64";
  }
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
    return "grid " + format_dim(g) + " must be non-empty with x < 2^31 and y, z <= 65535";
  }
  if (plan.shared_bytes > kMaxDynamicSharedBytes) {
    return std::to_string(plan.shared_bytes) + " bytes of dynamic shared memory exceed the 48 KiB limit";
  }
  return {};
}

}  // namespace

void run_grid(const LaunchPlan& plan) {
  const std::string prefix = std::string("emulated kernel '") + plan.kernel_name + "': ";
  if (std::string problem = configuration_problem(plan); !problem.empty()) {
    throw KernelError(prefix + "invalid configuration: " + problem);
  }
  const int64_t gx = plan.grid.x, gy = plan.grid.y;
  const int64_t blocks = gx * gy * plan.grid.z;

  // Blocks are handed out in chunks: one shared counter per block would make the
  // threads fight over its cache line when blocks are small.
  const int64_t chunk = std::max<int64_t>(1, blocks / (8 * omp_get_max_threads()));
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
#pragma omp parallel for schedule(dynamic, chunk) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    if (failed.load(std::memory_order_relaxed)) continue;
    const uint3 index{static_cast<unsigned>(b % gx), static_cast<unsigned>(b / gx % gy),
                      static_cast<unsigned>(b / (gx * gy))};
    try {
      BlockScheduler::this_thread().run_block(plan, index);
    } catch (const std::exception& e) {
      std::lock_guard lock(error_mutex);
      if (!failed.exchange(true)) error = e.what();
    }
  }
  if (failed) throw KernelError(prefix + error);
}

}  // namespace cfgan::emu::detail
