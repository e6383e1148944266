#include <cstdlib>
#include <cstring>

#include "kernels/cpu/cpu.h"

namespace cfgan::cpu {

// 64-byte alignment: one cache line, and aligned AVX-512 loads on tensor starts.
void* alloc(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  return std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
}

void release(void* p) { std::free(p); }

void copy(void* dst, const void* src, size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

// Host and device memory are the same memory here.
void copy_from_host(void* dst, const void* src, size_t bytes) { copy(dst, src, bytes); }
void copy_to_host(void* dst, const void* src, size_t bytes) { copy(dst, src, bytes); }

void synchronize() {}

}  // namespace cfgan::cpu
