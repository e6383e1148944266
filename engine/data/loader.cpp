#include "engine/data/loader.h"

#include <random>

#include "engine/error.h"

namespace cfgan {

DataLoader::DataLoader(const ImageDataset& data, int64_t batch_size, uint64_t seed, Device device)
    : data_(data), batch_size_(batch_size), seed_(seed), device_(device) {
  CFGAN_CHECK(batch_size >= 1, "--batch: must be >= 1, got ", batch_size);
  CFGAN_CHECK(data.count >= batch_size, "--batch ", batch_size, " is larger than the data set (", data.count,
              " images in ", data.source, ")");
  shuffle();
}

void DataLoader::shuffle() {
  order_.resize(static_cast<size_t>(data_.count));
  for (int64_t i = 0; i < data_.count; ++i) order_[i] = i;
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch_));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
}

void DataLoader::seek(int64_t epoch, int64_t position) {
  CFGAN_CHECK(epoch >= 0 && position >= 0 && position <= data_.count, "data loader: cannot seek to epoch ", epoch,
              " position ", position);
  epoch_ = epoch;
  position_ = position;
  shuffle();
}

Batch DataLoader::next() {
  if (position_ + batch_size_ > data_.count) {
    ++epoch_;
    position_ = 0;
    shuffle();
  }
  const int64_t bytes = data_.image_bytes();
  staging_.resize(static_cast<size_t>(batch_size_ * bytes));
  Batch batch;
  batch.labels.resize(static_cast<size_t>(batch_size_));
  for (int64_t b = 0; b < batch_size_; ++b) {
    const int64_t i = order_[position_ + b];
    const uint8_t* src = data_.pixels.data() + i * bytes;
    float* dst = staging_.data() + b * bytes;
    for (int64_t k = 0; k < bytes; ++k) dst[k] = static_cast<float>(src[k]) * (2.0f / 255.0f) - 1.0f;
    batch.labels[b] = data_.labels[i];
  }
  const int64_t k = data_.num_attributes();
  if (k > 0) {
    attribute_staging_.resize(static_cast<size_t>(batch_size_ * k));
    for (int64_t b = 0; b < batch_size_; ++b)
      for (int64_t j = 0; j < k; ++j)
        attribute_staging_[b * k + j] = data_.attributes[order_[position_ + b] * k + j] > 0;
    batch.attributes = Tensor::from_host({batch_size_, k}, attribute_staging_, device_);
  }
  position_ += batch_size_;
  batch.images = Tensor::from_host({batch_size_, data_.channels, data_.height, data_.width}, staging_, device_);
  return batch;
}

}  // namespace cfgan
