#include "kernels/emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <utility>

#if CFGAN_EMU_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace cfgan::emu::detail {

namespace {

size_t page_bytes() {
  static const size_t bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return bytes;
}

// A restarted fiber's abandoned frames may have left ASan's redzone marks on its stack.
void forget_stack_frames([[maybe_unused]] char* stack) {
#if CFGAN_EMU_ASAN
  __asan_unpoison_memory_region(stack, Fiber::kStackBytes);
#endif
}

// The bottom frame of every fiber: a fresh fiber is entered by a switch that does not
// return through switch_context, so the switch is completed here.
void fiber_entry(Fiber* self) {
#if CFGAN_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  self->entry(self);
}

}  // namespace

void switch_stacks(Context& from, Context& to);  // per architecture, below

void switch_context(Context& from, Context& to) {
#if CFGAN_EMU_ASAN
  void* fake_stack = nullptr;  // from's use-after-return frames, kept while it is away
  __sanitizer_start_switch_fiber(&fake_stack, to.stack_bottom, to.stack_size);
#endif
  switch_stacks(from, to);
#if CFGAN_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

void use_thread_stack([[maybe_unused]] Context& context) {
#if CFGAN_EMU_ASAN
  // Asking the system is slow (the main thread's stack is read from /proc), so once per thread.
  thread_local std::pair<void*, size_t> stack = [] {
    pthread_attr_t attr;
    void* bottom = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &bottom, &size);
      pthread_attr_destroy(&attr);
    }
    return std::pair{bottom, size};
  }();
  context.stack_bottom = stack.first;
  context.stack_size = stack.second;
#endif
}

#if defined(__x86_64__)

// switch_context(from, to): push the callee-saved registers on the current stack,
// store the stack pointer in from, load to's, pop its registers and return into it.
// The caller-saved registers are dead across a call by the ABI, so this is all the
// state there is. (MXCSR / x87 control words are not switched: kernels do not change
// rounding modes.) cfgan_emu_fiber_start is the bottom frame of every fiber; its
// undefined return address tells unwinders and debuggers to stop there.
asm(R"(
  .pushsection .text
  .p2align 4
  .globl cfgan_emu_switch_stack
  .hidden cfgan_emu_switch_stack
  .type cfgan_emu_switch_stack, @function
cfgan_emu_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cfgan_emu_switch_stack, .-cfgan_emu_switch_stack

  .p2align 4
  .globl cfgan_emu_fiber_start
  .hidden cfgan_emu_fiber_start
  .type cfgan_emu_fiber_start, @function
cfgan_emu_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  callq *%r13
  ud2
  .cfi_endproc
  .size cfgan_emu_fiber_start, .-cfgan_emu_fiber_start
  .popsection
)");

extern "C" void cfgan_emu_switch_stack(void** save_sp, void* load_sp);
extern "C" void cfgan_emu_fiber_start();

void switch_stacks(Context& from, Context& to) { cfgan_emu_switch_stack(&from.stack_pointer, to.stack_pointer); }

void Fiber::restart() {
  forget_stack_frames(mapping_ + page_bytes());
  // A first switch pops r15, r14, r13 (entry), r12 (this), rbx, rbp and "returns"
  // into cfgan_emu_fiber_start, which calls entry(this) with the stack 16-byte
  // aligned as the ABI wants at a call.
  auto top = reinterpret_cast<uintptr_t>(mapping_ + page_bytes() + kStackBytes - color_offset_) & ~uintptr_t{15};
  auto* slot = reinterpret_cast<void**>(top - 72);
  slot[0] = nullptr;                                          // r15
  slot[1] = nullptr;                                          // r14
  slot[2] = reinterpret_cast<void*>(&fiber_entry);            // r13
  slot[3] = this;                                             // r12
  slot[4] = nullptr;                                          // rbx
  slot[5] = nullptr;                                          // rbp
  slot[6] = reinterpret_cast<void*>(&cfgan_emu_fiber_start);  // return address
  slot[7] = nullptr;
  slot[8] = nullptr;
  context.stack_pointer = slot;
}

#else

void switch_stacks(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }

namespace {
// makecontext passes int arguments only, so the pointer travels in two halves.
void fiber_start(unsigned lo, unsigned hi) {
  fiber_entry(reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo));
}
}  // namespace

void Fiber::restart() {
  forget_stack_frames(mapping_ + page_bytes());
  getcontext(&context.uc);
  context.uc.uc_stack.ss_sp = mapping_ + page_bytes();
  context.uc.uc_stack.ss_size = kStackBytes - color_offset_;
  context.uc.uc_link = nullptr;
  auto bits = reinterpret_cast<uintptr_t>(this);
  makecontext(&context.uc, reinterpret_cast<void (*)()>(&fiber_start), 2, static_cast<unsigned>(bits),
              static_cast<unsigned>(bits >> 32));
}

#endif

Fiber::Fiber(void (*entry_)(Fiber*), void* owner_, int color)
    : entry(entry_), owner(owner_), color_offset_(static_cast<size_t>(color % 64) * 64) {
  // MAP_NORESERVE: only the pages a kernel touches become memory, so a block of
  // 1024 waiting threads costs a few pages each, not 64 KiB each.
  void* m = mmap(nullptr, page_bytes() + kStackBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  mapping_ = static_cast<char*>(m);
  mprotect(mapping_, page_bytes(), PROT_NONE);
#if CFGAN_EMU_ASAN
  context.stack_bottom = mapping_ + page_bytes();
  context.stack_size = kStackBytes;
#endif
  restart();
}

Fiber::~Fiber() { munmap(mapping_, page_bytes() + kStackBytes); }

}  // namespace cfgan::emu::detail
