// Warp operations as meetings of the lanes' fibers (see warp.h for the rules).
#include <algorithm>
#include <bit>
#include <stdexcept>

#include "kernels/emu/mma.h"
#include "kernels/emu/scheduler.h"

namespace cfgan::emu::detail {

namespace {

// What a lane reads from a lane that did not take part (exited, or missing from a
// partial warp): undefined on the device, all-one bits (NaN) here.
constexpr uint64_t kPoison = ~uint64_t{0};

bool is_shuffle(WarpOp op) {
  return op == WarpOp::shfl_idx || op == WarpOp::shfl_up || op == WarpOp::shfl_down || op == WarpOp::shfl_xor;
}

// The PTX shfl.sync source lane; out-of-segment sources read the lane's own value.
int source_lane(WarpOp op, int lane, int64_t arg, int width) {
  const int segment_start = lane & ~(width - 1);
  const int segment_end = segment_start + width - 1;
  int64_t source = lane;
  bool valid = true;
  switch (op) {
    case WarpOp::shfl_idx: source = segment_start | (arg & (width - 1)); break;
    case WarpOp::shfl_up: source = lane - arg; valid = source >= segment_start; break;
    case WarpOp::shfl_down: source = lane + arg; valid = source <= segment_end; break;
    case WarpOp::shfl_xor: source = lane ^ static_cast<uint32_t>(arg); valid = source <= segment_end; break;
    default: break;
  }
  return valid ? static_cast<int>(source) : lane;
}

}  // namespace

uint64_t BlockScheduler::warp_collective(WarpOp op, unsigned mask, uint64_t value, int64_t arg, int width,
                                         const std::source_location& where) {
  Fiber* self = current_;
  const int thread = self->thread;
  const int lane = thread % 32;
  const unsigned bit = 1u << lane;
  if ((mask & bit) == 0) [[unlikely]] fail_warp_mask(thread, op, mask, where);
  if (is_shuffle(op) && (width < 1 || width > 32 || !std::has_single_bit(static_cast<unsigned>(width)))) [[unlikely]] {
    fail_warp_width(thread, op, width, where);
  }

  Warp& warp = warps_[static_cast<size_t>(thread / 32)];
  PendingWarpOp* pending = nullptr;
  for (PendingWarpOp* open : warp.open) {
    if (open->mask == mask && open->op == op) {
      pending = open;
    } else if ((open->mask & mask) != 0) [[unlikely]] {
      fail_warp_conflict(thread, op, mask, where, *open);
    }
  }
  if (pending == nullptr) {
    pending = new_warp_op(op, mask, mask & warp.live, where);
    warp.open.push_back(pending);
  }
  if (op == WarpOp::mma && pending->participants != 0xffffffffu) [[unlikely]] {
    fail_mma_lanes(thread, pending->participants, where);
  }
  pending->values[lane] = value;
  pending->waiting[lane] = self;
  pending->arrived |= bit;
  if (pending->arrived == pending->participants) {
    complete(warp, pending);
    // The other lanes wait with their registers alive: the last to arrive computes for all.
    if (op == WarpOp::mma) {
      const MmaLane* lanes[32];
      for (int l = 0; l < 32; ++l) lanes[l] = std::bit_cast<const MmaLane*>(pending->values[l]);
      multiply_accumulate(static_cast<MmaShape>(arg), lanes);
    }
  } else {
    suspend();
  }

  uint64_t result = 0;
  if (is_shuffle(op)) {
    const int source = source_lane(op, lane, arg, width);
    result = (pending->arrived >> source & 1) != 0 ? pending->values[source] : kPoison;
  } else if (op == WarpOp::ballot) {
    result = pending->ballot;
  } else if (op == WarpOp::any) {
    result = pending->ballot != 0;
  } else if (op == WarpOp::all) {
    result = pending->ballot == pending->arrived;
  }
  if (--pending->readers == 0) free_warp_ops_.push_back(pending);
  return result;
}

BlockScheduler::PendingWarpOp* BlockScheduler::new_warp_op(WarpOp op, unsigned mask, unsigned participants,
                                                           const std::source_location& where) {
  if (free_warp_ops_.empty()) {
    warp_ops_.push_back(std::make_unique<PendingWarpOp>());
    free_warp_ops_.push_back(warp_ops_.back().get());
  }
  PendingWarpOp* pending = free_warp_ops_.back();
  free_warp_ops_.pop_back();
  pending->op = op;
  pending->mask = mask;
  pending->participants = participants;
  pending->arrived = 0;
  pending->readers = 0;
  pending->site = where;
  return pending;
}

// Every named live lane has arrived: close the meeting and queue the waiters (all
// arrived lanes but the running one, which completed it by arriving).
void BlockScheduler::complete(Warp& warp, PendingWarpOp* op) {
  std::erase(warp.open, op);
  op->readers = std::popcount(op->arrived);
  op->ballot = 0;
  for (unsigned lanes = op->arrived; lanes != 0; lanes &= lanes - 1) {
    const int lane = std::countr_zero(lanes);
    if (op->values[lane] != 0) op->ballot |= 1u << lane;
    if (op->waiting[lane] != current_) ready_.push_back(op->waiting[lane]);
  }
}

uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int64_t arg, int width,
                         const std::source_location& where) {
  BlockScheduler* scheduler = BlockScheduler::active();
  if (scheduler == nullptr) throw std::logic_error("warp operation called outside an emulated kernel");
  return scheduler->warp_collective(op, mask, value, arg, width, where);
}

}  // namespace cfgan::emu::detail
