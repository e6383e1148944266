// Device memory: a caching allocator per device, and Storage, the ref-counted block
// a tensor's elements live in. Freed blocks go back to a per-size cache, so a training
// step that repeats the same shapes stops calling the system allocator after warm-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/device.h"

namespace cfgan {

class Allocator {
 public:
  static Allocator& get(Device d);

  // Throws an Error naming the size and device when the device is out of memory.
  void* allocate(size_t bytes);
  void deallocate(void* p, size_t bytes);
  // Returns every cached block to the system.
  void empty_cache();

  struct Stats {
    int64_t system_allocations = 0;  // calls that reached the backend's alloc
    int64_t bytes_in_use = 0;
    int64_t bytes_cached = 0;
  };
  Stats stats() const;

  ~Allocator();

 private:
  explicit Allocator(Device d) : device_(d) {}
  Device device_;
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_blocks_;  // by rounded size
  Stats stats_;
};

// A block of device memory; returns itself to the allocator when the last owner goes.
class Storage {
  struct Passkey {};  // only make() constructs, but the pooled make_shared needs a public constructor

 public:
  static std::shared_ptr<Storage> make(size_t bytes, Device d);
  Storage(Passkey, void* data, size_t bytes, Device d) : data_(data), bytes_(bytes), device_(d) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_;
  size_t bytes_;
  Device device_;
};

}  // namespace cfgan
