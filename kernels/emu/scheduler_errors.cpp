// The scheduler's error messages. They have to let someone find a divergence bug in
// a kernel they cannot step through on a device, so they say which thread did what,
// where, and who waits where.
#include <cstdio>
#include <stdexcept>
#include <string_view>

#include "kernels/emu/scheduler.h"

namespace cfgan::emu::detail {

namespace {

std::string format_index(uint3 i) {
  char text[48];
  std::snprintf(text, sizeof text, "(%u,%u,%u)", i.x, i.y, i.z);
  return text;
}

}  // namespace

std::string format_site(const std::source_location& where) {
  std::string_view file = where.file_name();
  const size_t slash = file.find_last_of('/');
  if (slash != std::string_view::npos) file.remove_prefix(slash + 1);
  return std::string(file) + ":" + std::to_string(where.line()) + ":" + std::to_string(where.column());
}

std::string hex_mask(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::shfl_idx: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::any: return "__any_sync";
    case WarpOp::all: return "__all_sync";
    case WarpOp::syncwarp: return "__syncwarp";
    case WarpOp::mma: return "mma.sync";
  }
  return "warp operation";
}

std::string BlockScheduler::block_message(const std::string& problem, const std::string& details) const {
  return problem + " in block " + format_index(blockIdx) + ": " + details;
}

void BlockScheduler::fail(const std::string& problem, const std::string& details) const {
  throw std::runtime_error(block_message(problem, details));
}

void BlockScheduler::fail_exit_during_barrier(int thread) const {
  fail("divergent __syncthreads", describe_thread(thread) + " exited while " + describe_barrier());
}

// A thread reached __syncthreads after another exited, or at a different call site.
void BlockScheduler::fail_barrier(int thread, const std::source_location& where) const {
  const std::string arrival = describe_thread(thread) + " reached __syncthreads (" + format_site(where) + ")";
  if (first_exited_ >= 0) {
    fail("divergent __syncthreads", arrival + " after " + describe_thread(first_exited_) + " exited");
  }
  fail("divergent __syncthreads", arrival + " while " + describe_barrier());
}

void BlockScheduler::fail_warp_mask(int thread, WarpOp op, unsigned mask, const std::source_location& where) const {
  fail("invalid warp operation", describe_thread(thread) + " (lane " + std::to_string(thread % 32) + ") calls " +
                                     warp_op_name(op) + " (" + format_site(where) + ") with mask " + hex_mask(mask) +
                                     ", which does not name its own lane");
}

void BlockScheduler::fail_mma_lanes(int thread, unsigned participants, const std::source_location& where) const {
  fail("invalid warp operation", describe_thread(thread) + " calls mma.sync (" + format_site(where) +
                                     ") while only lanes " + hex_mask(participants) +
                                     " of its warp are alive; the instruction needs all 32");
}

void BlockScheduler::fail_warp_width(int thread, WarpOp op, int width, const std::source_location& where) const {
  fail("invalid warp operation", describe_thread(thread) + " calls " + warp_op_name(op) + " (" + format_site(where) +
                                     ") with width " + std::to_string(width) + "; it must be a power of two up to 32");
}

void BlockScheduler::fail_warp_conflict(int thread, WarpOp op, unsigned mask, const std::source_location& where,
                                        const PendingWarpOp& open) const {
  fail("divergent warp operation", describe_thread(thread) + " calls " + warp_op_name(op) + " (" +
                                       format_site(where) + ") with mask " + hex_mask(mask) + " while " +
                                       describe_warp_op(thread / 32, open));
}

std::string BlockScheduler::describe_thread(int thread) const { return "thread " + format_index(thread_index(thread)); }

std::string BlockScheduler::describe_barrier() const {
  const int n = barrier_arrived_;
  return std::to_string(n) + (n == 1 ? " thread waits" : " threads wait") + " at __syncthreads (" +
         format_site(barrier_site_) + ")";
}

std::string BlockScheduler::describe_warp_op(int warp, const PendingWarpOp& op) const {
  return "lanes " + hex_mask(op.arrived) + " of warp " + std::to_string(warp) + " wait at " + warp_op_name(op.op) +
         " (" + format_site(op.site) + ") with mask " + hex_mask(op.mask) + " for lanes " +
         hex_mask(op.participants & ~op.arrived);
}

std::string BlockScheduler::deadlock_report() const {
  std::string waits;
  if (barrier_arrived_ > 0) waits = describe_barrier();
  for (size_t w = 0; w < warps_.size(); ++w) {
    for (const PendingWarpOp* op : warps_[w].open) {
      if (!waits.empty()) waits += "; ";
      waits += describe_warp_op(static_cast<int>(w), *op);
    }
  }
  return block_message("divergent barrier", "no thread can continue: " + waits);
}

}  // namespace cfgan::emu::detail
