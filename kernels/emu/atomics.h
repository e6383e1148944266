// Device atomics. Blocks run in parallel on several OS threads, so these are real
// host atomics (std::atomic_ref); float atomicAdd is a compare-exchange loop, exact
// under contention like the hardware's. All return the old value, as in CUDA.
#pragma once

#include <atomic>

namespace cfgan::emu {

inline int atomicAdd(int* address, int value) { return std::atomic_ref<int>(*address).fetch_add(value); }
inline unsigned atomicAdd(unsigned* address, unsigned value) {
  return std::atomic_ref<unsigned>(*address).fetch_add(value);
}
inline float atomicAdd(float* address, float value) { return std::atomic_ref<float>(*address).fetch_add(value); }

namespace detail {
template <typename T>
T atomic_max(T* address, T value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (old < value && !ref.compare_exchange_weak(old, value)) {
  }
  return old;
}

template <typename T>
T atomic_cas(T* address, T compare, T value) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
  return compare;  // on failure compare_exchange stored the value it found
}
}  // namespace detail

inline int atomicMax(int* address, int value) { return detail::atomic_max(address, value); }
inline unsigned atomicMax(unsigned* address, unsigned value) { return detail::atomic_max(address, value); }
inline int atomicCAS(int* address, int compare, int value) { return detail::atomic_cas(address, compare, value); }
inline unsigned atomicCAS(unsigned* address, unsigned compare, unsigned value) {
  return detail::atomic_cas(address, compare, value);
}

inline int atomicExch(int* address, int value) { return std::atomic_ref<int>(*address).exchange(value); }
inline unsigned atomicExch(unsigned* address, unsigned value) {
  return std::atomic_ref<unsigned>(*address).exchange(value);
}
inline float atomicExch(float* address, float value) { return std::atomic_ref<float>(*address).exchange(value); }

}  // namespace cfgan::emu
