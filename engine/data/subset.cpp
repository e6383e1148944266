#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/image.h"

namespace cfgan {
namespace {

// The image indices of each class, in order.
std::vector<std::vector<int64_t>> indices_by_class(const ImageDataset& data) {
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(data.num_classes()));
  for (int64_t i = 0; i < data.count; ++i) by_class[data.labels[i]].push_back(i);
  return by_class;
}

// Fisher-Yates written out: std::shuffle's sequence is not fixed by the standard.
void shuffle(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

// The images at `indices` (ascending), as a data set named `source`.
ImageDataset take(const ImageDataset& data, const std::vector<int64_t>& indices, const std::string& source) {
  ImageDataset out = data;
  out.count = static_cast<int64_t>(indices.size());
  out.pixels.clear();
  out.labels.clear();
  out.files.clear();
  out.attributes.clear();
  const int64_t k = data.num_attributes();
  for (int64_t i : indices) {
    out.pixels.insert(out.pixels.end(), data.pixels.begin() + i * data.image_bytes(),
                      data.pixels.begin() + (i + 1) * data.image_bytes());
    out.labels.push_back(data.labels[i]);
    if (!data.files.empty()) out.files.push_back(data.files[i]);
    if (k > 0) out.attributes.insert(out.attributes.end(), data.attributes.begin() + i * k,
                                     data.attributes.begin() + (i + 1) * k);
  }
  out.source = source;
  return out;
}

}  // namespace

ImageDataset select_subset(const ImageDataset& data, const std::vector<int32_t>& classes, int64_t per_class,
                           uint64_t seed) {
  for (int32_t c : classes) {
    CFGAN_CHECK(c >= 0 && c < data.num_classes(), "--classes: class ", c, " does not exist in ", data.source,
                " (classes 0-", data.num_classes() - 1, ")");
  }
  CFGAN_CHECK(per_class >= 0, "--per-class: must be >= 0, got ", per_class);
  std::vector<std::vector<int64_t>> by_class = indices_by_class(data);
  std::vector<int64_t> chosen;
  std::mt19937_64 rng(seed);
  for (int32_t c = 0; c < data.num_classes(); ++c) {
    if (!classes.empty() && std::find(classes.begin(), classes.end(), c) == classes.end()) continue;
    std::vector<int64_t>& members = by_class[c];
    shuffle(members, rng);
    const size_t keep = per_class > 0 ? std::min<size_t>(members.size(), per_class) : members.size();
    CFGAN_CHECK(per_class == 0 || static_cast<int64_t>(keep) == per_class, "--per-class ", per_class, ": class ", c,
                " (", data.class_names[c], ") has only ", members.size(), " images in ", data.source);
    chosen.insert(chosen.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(keep));
  }
  std::sort(chosen.begin(), chosen.end());
  CFGAN_CHECK(!chosen.empty(), "subset of ", data.source, " is empty");
  return take(data, chosen, data.source);
}

std::pair<ImageDataset, ImageDataset> split_holdout(const ImageDataset& data, double fraction, uint64_t seed) {
  std::vector<std::vector<int64_t>> by_class = indices_by_class(data);
  std::mt19937_64 rng(seed);
  std::vector<int64_t> train, test;
  for (std::vector<int64_t>& members : by_class) {
    shuffle(members, rng);
    const size_t held = members.size() < 2 ? 0 : std::max<size_t>(1, std::lround(fraction * members.size()));
    test.insert(test.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(held));
    train.insert(train.end(), members.begin() + static_cast<std::ptrdiff_t>(held), members.end());
  }
  CFGAN_CHECK(!test.empty() && !train.empty(), data.source, ": ", data.count, " images cannot be split into ",
              "training and held-out images (--holdout ", fraction, ")");
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  return {take(data, train, data.source + " (training part)"), take(data, test, data.source + " (held out)")};
}

ImageDataset resize_images(const ImageDataset& data, int64_t size) {
  if (data.height == size && data.width == size) return data;
  ImageDataset out = data;
  out.height = out.width = size;
  out.pixels.clear();
  out.pixels.reserve(static_cast<size_t>(data.count * data.channels * size * size));
  const int64_t plane = data.height * data.width;
  for (int64_t i = 0; i < data.count; ++i) {
    for (int64_t c = 0; c < data.channels; ++c) {
      const uint8_t* src = data.pixels.data() + (i * data.channels + c) * plane;
      const Image resized = resize_image(Image{data.width, data.height, 1, std::vector<uint8_t>(src, src + plane)},
                                         size, size);
      out.pixels.insert(out.pixels.end(), resized.pixels.begin(), resized.pixels.end());
    }
  }
  return out;
}

}  // namespace cfgan
