// Shuffled mini-batches of an ImageDataset as tensors in [-1, 1]. The order is a pure
// function of (seed, epoch), so a loader restored from its position continues exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/tensor.h"

namespace cfgan {

struct Batch {
  Tensor images;                // (N, C, H, W) in [-1, 1]
  std::vector<int32_t> labels;  // N
  Tensor attributes;            // (N, K) as 0 / 1 (BCE targets) when the data set has attributes
};

class DataLoader {
 public:
  // Incomplete last batches are dropped, so batch statistics always see `batch_size` images.
  DataLoader(const ImageDataset& data, int64_t batch_size, uint64_t seed, Device device = Device::cpu);
  Batch next();

  // Resumable position: epoch and next index within the epoch's permutation.
  int64_t epoch() const { return epoch_; }
  int64_t position() const { return position_; }
  void seek(int64_t epoch, int64_t position);

 private:
  void shuffle();
  const ImageDataset& data_;
  int64_t batch_size_;
  uint64_t seed_;
  Device device_;
  int64_t epoch_ = 0, position_ = 0;
  std::vector<int64_t> order_;
  std::vector<float> staging_, attribute_staging_;
};

}  // namespace cfgan
