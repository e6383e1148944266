#include "kernels/emu/scheduler.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace cfgan::emu::detail {

namespace {

constinit thread_local BlockScheduler* active_scheduler = nullptr;

// Dynamic shared memory is handed out 128-byte aligned, more than any vector type
// a kernel may load from it needs.
constexpr size_t kSharedAlignment = 128;

bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

}  // namespace

BlockScheduler& BlockScheduler::this_thread() {
  static thread_local BlockScheduler scheduler;
  return scheduler;
}

BlockScheduler* BlockScheduler::active() { return active_scheduler; }

BlockScheduler::BlockScheduler() : dynamic_shared_(new unsigned char[kMaxDynamicSharedBytes + kSharedAlignment]) {
  if (const char* seed = std::getenv("CFGAN_EMU_SHUFFLE")) shuffle_seed_ = std::strtoull(seed, nullptr, 10);
}

uint64_t BlockScheduler::next_random() {  // splitmix64
  uint64_t z = (shuffle_state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Fisher-Yates over items[begin..].
template <typename T>
void BlockScheduler::shuffle(std::vector<T>& items, size_t begin) {
  for (size_t i = items.size(); i > begin + 1; --i) std::swap(items[i - 1], items[begin + next_random() % (i - begin)]);
}

BlockScheduler::~BlockScheduler() = default;

uint3 BlockScheduler::thread_index(int thread) const {
  const unsigned t = static_cast<unsigned>(thread);
  return {t % blockDim.x, t / blockDim.x % blockDim.y, t / (blockDim.x * blockDim.y)};
}

void BlockScheduler::run_block(const LaunchPlan& plan, uint3 block_index) {
  if (active_scheduler != nullptr) {
    throw std::runtime_error("a kernel was launched from inside an emulated kernel (not supported)");
  }
  plan_ = &plan;
  num_threads_ = static_cast<int>(plan.block.x * plan.block.y * plan.block.z);
  blockIdx = block_index;
  blockDim = plan.block;
  gridDim = plan.grid;

  auto aligned = (reinterpret_cast<uintptr_t>(dynamic_shared_.get()) + kSharedAlignment - 1) & ~(kSharedAlignment - 1);
  dynamic_shared_memory = reinterpret_cast<unsigned char*>(aligned);
  std::memset(dynamic_shared_memory, 0xFF, plan.shared_bytes);

  next_thread_ = 0;
  next_index_ = {0, 0, 0};
  start_order_.clear();
  if (shuffle_seed_ != 0) [[unlikely]] {
    // Each block its own order, the same on every run with this seed.
    shuffle_state_ =
        shuffle_seed_ ^
        (0x2545f4914f6cdd1dull *
         (1 + block_index.x + uint64_t{gridDim.x} * (block_index.y + uint64_t{gridDim.y} * block_index.z)));
    start_order_.resize(static_cast<size_t>(num_threads_));
    for (int t = 0; t < num_threads_; ++t) start_order_[static_cast<size_t>(t)] = t;
    shuffle(start_order_, 0);
  }
  finished_ = 0;
  first_exited_ = -1;
  ready_.clear();
  ready_head_ = 0;
  failure_ = nullptr;
  barrier_arrived_ = 0;
  barrier_waiting_.clear();
  const int num_warps = (num_threads_ + 31) / 32;
  warps_.resize(static_cast<size_t>(num_warps));
  for (int w = 0; w < num_warps; ++w) {
    const int lanes = std::min(32, num_threads_ - 32 * w);
    warps_[w].live = lanes == 32 ? ~0u : (1u << lanes) - 1;
    warps_[w].open.clear();
  }

  // Control comes back here only when no fiber can run: the block is done, it is
  // stuck (divergence), or a fiber failed.
  active_scheduler = this;
  use_thread_stack(scheduler_context_);  // blocks of one launch may run on several threads
  for (;;) {
    if (Fiber* next = next_runnable()) {
      current_ = next;
      switch_context(scheduler_context_, next->context);
    } else if (finished_ == num_threads_) {
      break;
    } else {
      failure_ = std::make_exception_ptr(std::runtime_error(deadlock_report()));
    }
    if (failure_) {
      active_scheduler = nullptr;
      abandon_block();
      std::rethrow_exception(failure_);
    }
  }
  active_scheduler = nullptr;
}

// Waiters first (in the order they were released), then a fiber for the next
// thread to start; nullptr when neither exists.
Fiber* BlockScheduler::next_runnable() {
  if (ready_head_ < ready_.size()) {
    Fiber* next = ready_[ready_head_++];
    if (ready_head_ == ready_.size()) {
      ready_.clear();
      ready_head_ = 0;
    }
    return next;
  }
  if (next_thread_ < num_threads_) return acquire_fiber();
  return nullptr;
}

Fiber* BlockScheduler::acquire_fiber() {
  if (!idle_.empty()) {
    Fiber* f = idle_.back();
    idle_.pop_back();
    return f;
  }
  const int color = static_cast<int>(fibers_.size());
  fibers_.push_back(std::make_unique<Fiber>(&BlockScheduler::fiber_main, this, color));
  return fibers_.back().get();
}

void BlockScheduler::fiber_main(Fiber* self) {
  auto& scheduler = *static_cast<BlockScheduler*>(self->owner);
  for (;;) {
    scheduler.run_threads(self);
    Fiber* next = scheduler.failure_ ? nullptr : scheduler.next_runnable();
    self->thread = -1;
    scheduler.idle_.push_back(self);
    if (next != nullptr) {
      scheduler.current_ = next;
      switch_context(self->context, next->context);
    } else {
      switch_context(self->context, scheduler.scheduler_context_);
    }
  }
}

// Runs not-yet-started threads on this fiber until one of them has to wait (the
// wait switches away and, once resumed, returns here to finish the thread) or there
// are waiters ready to resume, which go first.
void BlockScheduler::run_threads(Fiber* self) {
  // The exception is only stored here; switching fibers inside a catch handler
  // would corrupt the OS thread's record of exceptions being handled.
  try {
    while (next_thread_ < num_threads_ && ready_head_ == ready_.size()) {
      if (start_order_.empty()) {
        self->thread = next_thread_++;
        self->index = next_index_;
        if (++next_index_.x == blockDim.x) {
          next_index_.x = 0;
          if (++next_index_.y == blockDim.y) {
            next_index_.y = 0;
            ++next_index_.z;
          }
        }
      } else {
        self->thread = start_order_[static_cast<size_t>(next_thread_++)];
        self->index = thread_index(self->thread);
      }
      threadIdx = self->index;
      plan_->run_thread(plan_->bound);
      thread_exited(self->thread);
    }
  } catch (...) {
    failure_ = std::current_exception();
  }
}

// The calling thread waits: run something else. The scheduler's context is the
// fallback when nothing can run (it then reports the deadlock).
void BlockScheduler::suspend() {
  Fiber* self = current_;
  if (Fiber* next = next_runnable()) {
    current_ = next;
    switch_context(self->context, next->context);
  } else {
    switch_context(self->context, scheduler_context_);
  }
  threadIdx = self->index;
}

void BlockScheduler::thread_exited(int thread) {
  ++finished_;
  if (first_exited_ < 0) first_exited_ = thread;
  if (barrier_arrived_ > 0) [[unlikely]]
    fail_exit_during_barrier(thread);
  Warp& warp = warps_[static_cast<size_t>(thread / 32)];
  const unsigned bit = 1u << (thread % 32);
  warp.live &= ~bit;
  if (!warp.open.empty()) [[unlikely]]
    release_exited_lane(warp, bit);
}

// Exited lanes are not waited for (CUDA: "all non-exited threads named in mask").
void BlockScheduler::release_exited_lane(Warp& warp, unsigned bit) {
  for (size_t i = 0; i < warp.open.size();) {
    PendingWarpOp* op = warp.open[i];
    if (op->op == WarpOp::mma) [[unlikely]] fail_mma_lanes(current_->thread, warp.live, op->site);
    op->participants &= ~bit;
    if (op->arrived == op->participants) {
      complete(warp, op);  // removes op from warp.open
    } else {
      ++i;
    }
  }
}

void BlockScheduler::sync_threads(const std::source_location& where) {
  if (first_exited_ >= 0) [[unlikely]]
    fail_barrier(current_->thread, where);
  if (barrier_arrived_ == 0) {
    barrier_site_ = where;
  } else if (!same_site(where, barrier_site_)) [[unlikely]] {
    fail_barrier(current_->thread, where);
  }
  if (++barrier_arrived_ == num_threads_) {
    barrier_arrived_ = 0;
    const size_t first = ready_.size();
    ready_.insert(ready_.end(), barrier_waiting_.begin(), barrier_waiting_.end());
    if (shuffle_seed_ != 0) [[unlikely]]
      shuffle(ready_, first);  // only the threads this barrier released
    barrier_waiting_.clear();
    return;
  }
  barrier_waiting_.push_back(current_);
  suspend();
}

// The block cannot finish: forget the threads in flight. Their fibers restart from
// scratch when next used; kernel frames on them are dropped without unwinding.
void BlockScheduler::abandon_block() {
  for (auto& fiber : fibers_) {
    if (fiber->thread >= 0) {
      fiber->restart();
      fiber->thread = -1;
      idle_.push_back(fiber.get());
    }
  }
  free_warp_ops_.clear();
  for (auto& op : warp_ops_) free_warp_ops_.push_back(op.get());
  current_ = nullptr;
}

void sync_threads(const std::source_location& where) {
  BlockScheduler* scheduler = BlockScheduler::active();
  if (scheduler == nullptr) throw std::logic_error("__syncthreads called outside an emulated kernel");
  scheduler->sync_threads(where);
}

}  // namespace cfgan::emu::detail
