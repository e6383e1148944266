#include "engine/recycling.h"

#include <array>
#include <new>

namespace cfgan {
namespace {

constexpr size_t kGranule = 16;  // also the blocks' alignment, enough for every recycled type
constexpr size_t kClasses = 128;  // blocks up to 2 KiB; larger ones go to the system

struct FreeBlock {
  FreeBlock* next;
};

thread_local std::array<FreeBlock*, kClasses> t_free_lists{};

size_t size_class(size_t bytes) { return (bytes + kGranule - 1) / kGranule; }

}  // namespace

void* recycling_allocate(size_t bytes) {
  const size_t cls = size_class(bytes);
  if (cls == 0 || cls >= kClasses) return ::operator new(bytes);
  if (FreeBlock* block = t_free_lists[cls]) {
    t_free_lists[cls] = block->next;
    return block;
  }
  return ::operator new(cls * kGranule);
}

void recycling_deallocate(void* p, size_t bytes) noexcept {
  const size_t cls = size_class(bytes);
  if (cls == 0 || cls >= kClasses) {
    ::operator delete(p);
    return;
  }
  auto* block = static_cast<FreeBlock*>(p);
  block->next = t_free_lists[cls];
  t_free_lists[cls] = block;
}

}  // namespace cfgan
