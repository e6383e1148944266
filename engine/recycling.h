// Recycled blocks for the engine's small, short-lived objects (tensor handles,
// storages, autograd nodes and their input lists). Freed blocks wait in per-size free
// lists of the freeing thread, so a training step that repeats its shapes stops
// calling the system allocator after the first steps.
#pragma once

#include <cstddef>
#include <memory>

namespace cfgan {

void* recycling_allocate(size_t bytes);
void recycling_deallocate(void* p, size_t bytes) noexcept;

template <typename T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() = default;
  template <typename U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(recycling_allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { recycling_deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept {
    return true;
  }
};

template <typename T, typename... Args>
std::shared_ptr<T> make_recycled(Args&&... args) {
  return std::allocate_shared<T>(RecyclingAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace cfgan
