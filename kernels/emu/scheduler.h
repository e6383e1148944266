// The block scheduler: runs the threads of one block as cooperating fibers on the
// calling OS thread, so __syncthreads and warp operations really wait.
//
// Threads start in order, and a thread that returns without waiting hands its fiber
// straight to the next thread: a kernel with no barrier runs all its threads back to
// back on one fiber, a few nanoseconds each. Only a thread that has to wait keeps
// its fiber (and the block needs a new one for the next thread); once the last
// thread arrives, the waiters are queued in arrival order and resumed one by one.
// A waiting fiber switches directly to the next runnable one (one switch per wait);
// the scheduler's own context only sees the block start and end. Ready fibers run
// before new threads start, which keeps a warp-shuffle kernel at about a warp's
// worth of live fibers.
//
// Every wait is checked: when nobody can run but threads still wait, or a thread
// exits while others wait at __syncthreads, the block throws a std::runtime_error
// that says which threads wait where (run_grid adds the kernel name). The waiting
// fibers are then abandoned (restarted fresh for the next block).
//
// One scheduler per OS thread; its fibers, queues and dynamic shared memory are
// reused by every block that thread runs.
//
// With CFGAN_EMU_SHUFFLE=<seed> (non-zero) in the environment, each block starts its threads
// in a seeded random order and resumes the waiters of each barrier in a random order: a
// kernel whose result depends on the order threads run in (a missing __syncthreads, a race
// between threads) then gives other results, which the parity tests see.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

#include "kernels/emu/fiber.h"
#include "kernels/emu/launch.h"
#include "kernels/emu/warp.h"

namespace cfgan::emu::detail {

class BlockScheduler {
 public:
  static BlockScheduler& this_thread();
  // The scheduler running a block on this OS thread; nullptr outside kernels.
  static BlockScheduler* active();

  BlockScheduler();
  ~BlockScheduler();
  BlockScheduler(const BlockScheduler&) = delete;
  BlockScheduler& operator=(const BlockScheduler&) = delete;

  void run_block(const LaunchPlan& plan, uint3 block_index);

  // Called from kernel code (the current fiber).
  void sync_threads(const std::source_location& where);
  uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int64_t arg, int width,
                           const std::source_location& where);

 private:
  // A warp operation collecting its lanes (open), then being read by them.
  struct PendingWarpOp {
    WarpOp op;
    unsigned mask;          // as passed by the lanes
    unsigned participants;  // named lanes still alive: the ones waited for
    unsigned arrived;
    unsigned ballot;  // arrived lanes with a non-zero value, set on completion (votes)
    int readers;      // lanes that still have to read the result
    std::source_location site;
    uint64_t values[32];
    Fiber* waiting[32];
  };
  struct Warp {
    unsigned live;  // lanes that exist and have not exited
    std::vector<PendingWarpOp*> open;
  };

  static void fiber_main(Fiber* fiber);
  void run_threads(Fiber* self);
  void thread_exited(int thread);
  void release_exited_lane(Warp& warp, unsigned bit);
  void suspend();
  Fiber* next_runnable();
  Fiber* acquire_fiber();
  void abandon_block();
  void complete(Warp& warp, PendingWarpOp* op);
  PendingWarpOp* new_warp_op(WarpOp op, unsigned mask, unsigned participants, const std::source_location& where);
  uint3 thread_index(int thread) const;
  uint64_t next_random();
  template <typename T>
  void shuffle(std::vector<T>& items, size_t begin);

  // Diagnostics (scheduler_errors.cpp): messages say which threads wait where.
  std::string block_message(const std::string& problem, const std::string& details) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail(const std::string& problem, const std::string& details) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_exit_during_barrier(int thread) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_barrier(int thread, const std::source_location& where) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_warp_mask(int thread, WarpOp op, unsigned mask,
                                                             const std::source_location& where) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_mma_lanes(int thread, unsigned participants,
                                                             const std::source_location& where) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_warp_width(int thread, WarpOp op, int width,
                                                              const std::source_location& where) const;
  [[noreturn, gnu::cold, gnu::noinline]] void fail_warp_conflict(int thread, WarpOp op, unsigned mask,
                                                                 const std::source_location& where,
                                                                 const PendingWarpOp& open) const;
  std::string describe_thread(int thread) const;
  std::string describe_barrier() const;
  std::string describe_warp_op(int warp, const PendingWarpOp& op) const;
  std::string deadlock_report() const;

  const LaunchPlan* plan_ = nullptr;
  int num_threads_ = 0;
  int next_thread_ = 0;           // first thread not started yet
  uint3 next_index_{};            // its threadIdx, advanced incrementally (no divisions)
  uint64_t shuffle_seed_ = 0;     // CFGAN_EMU_SHUFFLE; 0: threads start in order
  uint64_t shuffle_state_ = 0;    // splitmix64 state of the current block
  std::vector<int> start_order_;  // shuffled: the threads in the order they start
  int finished_ = 0;
  int first_exited_ = -1;

  Context scheduler_context_;
  Fiber* current_ = nullptr;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<Fiber*> idle_;
  std::vector<Fiber*> ready_;
  size_t ready_head_ = 0;
  std::exception_ptr failure_;

  int barrier_arrived_ = 0;
  std::source_location barrier_site_;
  std::vector<Fiber*> barrier_waiting_;

  std::vector<Warp> warps_;
  std::vector<std::unique_ptr<PendingWarpOp>> warp_ops_;
  std::vector<PendingWarpOp*> free_warp_ops_;

  std::unique_ptr<unsigned char[]> dynamic_shared_;
};

// Largest dynamic shared memory a launch may ask for: the device's default limit
// without cudaFuncSetAttribute, which the emulator does not model.
constexpr size_t kMaxDynamicSharedBytes = 48 * 1024;

std::string format_site(const std::source_location& where);  // "file.cu:42:7"
std::string hex_mask(unsigned mask);                         // "0x0000ffff"
const char* warp_op_name(WarpOp op);                         // "__shfl_down_sync"

}  // namespace cfgan::emu::detail
