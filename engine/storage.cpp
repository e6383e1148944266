#include "engine/storage.h"

#include <bit>

#include "engine/error.h"
#include "engine/recycling.h"

namespace cfgan {
namespace {

// Size classes 512 B, then four steps per power of two: at most 25% waste, and
// neighbouring shapes share blocks.
size_t size_class(size_t bytes) {
  if (bytes <= 512) return 512;
  const size_t step = std::bit_floor(bytes) / 4;
  return (bytes + step - 1) / step * step;
}

}  // namespace

Allocator& Allocator::get(Device d) {
  static Allocator cpu(Device::cpu), cuda(Device::cuda);
  return d == Device::cpu ? cpu : cuda;
}

void* Allocator::allocate(size_t bytes) {
  const size_t size = size_class(bytes);
  std::lock_guard lock(mutex_);
  stats_.bytes_in_use += static_cast<int64_t>(size);
  auto it = free_blocks_.find(size);
  if (it != free_blocks_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    stats_.bytes_cached -= static_cast<int64_t>(size);
    return p;
  }
  const Kernels& k = kernels_for(device_);
  void* p = k.alloc(size);
  if (!p && stats_.bytes_cached > 0) {  // give the cache back and try once more
    for (auto& [block_size, blocks] : free_blocks_) {
      for (void* b : blocks) k.release(b);
      blocks.clear();
    }
    stats_.bytes_cached = 0;
    p = k.alloc(size);
  }
  if (!p) {
    stats_.bytes_in_use -= static_cast<int64_t>(size);
    fail("out of memory on ", device_name(device_), ": could not allocate ", size, " bytes (", stats_.bytes_in_use,
         " bytes in use)");
  }
  ++stats_.system_allocations;
  return p;
}

void Allocator::deallocate(void* p, size_t bytes) {
  const size_t size = size_class(bytes);
  std::lock_guard lock(mutex_);
  free_blocks_[size].push_back(p);
  stats_.bytes_in_use -= static_cast<int64_t>(size);
  stats_.bytes_cached += static_cast<int64_t>(size);
}

void Allocator::empty_cache() {
  std::lock_guard lock(mutex_);
  if (stats_.bytes_cached == 0) return;  // nothing to give back (and perhaps no backend yet)
  const Kernels& k = kernels_for(device_);
  for (auto& [size, blocks] : free_blocks_) {
    for (void* b : blocks) k.release(b);
  }
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

// At exit the CPU cache goes back to the system, so a leak checker reports real leaks only.
// The CUDA cache stays: the CUDA runtime may be shut down by then, and the process's end
// frees device memory anyway.
Allocator::~Allocator() {
  if (device_ == Device::cpu) empty_cache();
}

Allocator::Stats Allocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::shared_ptr<Storage> Storage::make(size_t bytes, Device d) {
  return make_recycled<Storage>(Passkey(), Allocator::get(d).allocate(bytes), bytes, d);
}

Storage::~Storage() { Allocator::get(device_).deallocate(data_, bytes_); }

}  // namespace cfgan
