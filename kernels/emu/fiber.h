// Fibers: the stacks on which the threads of one emulated block take turns.
//
// A fiber is a stack plus a saved context. Switching is cooperative and happens only
// at barriers and warp operations, so a switch must be cheap: on x86-64 it saves the
// six callee-saved registers and swaps stack pointers (fiber.cpp), nothing else; no
// signal mask syscall like swapcontext(). Other architectures use ucontext.
#pragma once

#include <cstddef>

#include "kernels/emu/types.h"

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace cfgan::emu::detail {

// AddressSanitizer keeps its own idea of which stack is running; every hand-made switch
// must be announced to it (sanitizer/common_interface_defs.h), or a throw or a stack
// access on a fiber reads as an error.
#if defined(__SANITIZE_ADDRESS__)
#define CFGAN_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CFGAN_EMU_ASAN 1
#endif
#endif

// A saved execution context: where to continue when switched to.
struct Context {
#if defined(__x86_64__)
  void* stack_pointer = nullptr;
#else
  ucontext_t uc;
#endif
#if CFGAN_EMU_ASAN
  const void* stack_bottom = nullptr;  // the stack the context runs on, for ASan
  size_t stack_size = 0;
#endif
};

// Saves the running context into `from` and continues `to`. Returns when something
// switches back to `from`.
void switch_context(Context& from, Context& to);

// Marks `context` as the calling OS thread's own stack (what a scheduler switches back to).
// Only ASan needs to know; otherwise a no-op.
void use_thread_stack(Context& context);

// A stack with a guard page below it (an overflowing kernel faults instead of
// corrupting a neighbour) and a context that starts in entry(this).
class Fiber {
 public:
  static constexpr size_t kStackBytes = 64 * 1024;

  // `color` staggers the stack top by color % 64 cache lines: otherwise every fiber's
  // hot frames sit at the same page offset, in the same few L1 sets, and a block of
  // 256 waiting threads thrashes them at every barrier.
  Fiber(void (*entry)(Fiber*), void* owner, int color);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Forgets where the fiber was suspended: the next switch into it calls entry(this)
  // afresh. Used after an aborted block, whose kernels never return.
  void restart();

  Context context;
  void (*const entry)(Fiber*);
  void* const owner;  // the scheduler that runs this fiber
  int thread = -1;    // linear index of the CUDA thread it runs, -1 when idle
  uint3 index{};      // and that thread's threadIdx

 private:
  char* mapping_;  // guard page + stack
  size_t color_offset_;
};

}  // namespace cfgan::emu::detail
