// A seeded stream of Philox-4x32 blocks. Each random tensor takes the next
// ceil(n/4) blocks, so a (seed, offset) pair replays a run exactly, on any backend.
#pragma once

#include <cstdint>

namespace cfgan {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t offset = 0) : seed_(seed), offset_(offset) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }
  // Reserves blocks for n values; returns the first block's offset.
  uint64_t advance(int64_t n) {
    const uint64_t first = offset_;
    offset_ += static_cast<uint64_t>((n + 3) / 4);
    return first;
  }

 private:
  uint64_t seed_;
  uint64_t offset_;
};

}  // namespace cfgan
