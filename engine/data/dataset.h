// Image data sets held in memory as 8-bit pixels (N, C, H, W) with integer labels.
// Batches are scaled to [-1, 1] floats by the DataLoader (engine/data/loader.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cfgan {

struct ImageDataset {
  int64_t count = 0, channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // count * channels * height * width
  std::vector<int32_t> labels;  // count, in [0, class_names.size())
  std::vector<std::string> class_names;
  std::string source;  // where it was read from, for messages and run configs
  std::vector<std::string> files;            // per image: its bare file name (image folders); else empty
  std::vector<std::string> attribute_names;  // K binary attributes; empty when the set has none
  std::vector<int8_t> attributes;            // (count, K) row-major, +1 / -1

  int64_t num_attributes() const { return static_cast<int64_t>(attribute_names.size()); }
  int64_t image_bytes() const { return channels * height * width; }
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

// Fashion-MNIST's ten classes, in label order.
const std::vector<std::string>& fashion_mnist_class_names();

// Reads Fashion-MNIST (IDX files, gzip-compressed) from `dir`; split is "train" or "test".
ImageDataset load_fashion_mnist(const std::string& dir, const std::string& split);

// Reads root/<class>/*.png|jpg|jpeg|bmp (class = sub-folder, sorted by name), converting
// every image to `channels` (1 or 3) and resizing it to size x size. Keeps file names.
ImageDataset load_image_folder(const std::string& root, int64_t size, int64_t channels);

// Keeps only `classes` (empty: all) and at most `per_class` images of each (0: all),
// chosen by a seeded shuffle. Labels keep their original values.
ImageDataset select_subset(const ImageDataset& data, const std::vector<int32_t>& classes, int64_t per_class,
                           uint64_t seed);

// Holds out `fraction` of every class (at least one image of a class with two or more),
// chosen by a seeded shuffle, so a small folder still tests every class. -> {train, test}
std::pair<ImageDataset, ImageDataset> split_holdout(const ImageDataset& data, double fraction, uint64_t seed);

// Resizes every image to size x size (bilinear); a no-op when already that size.
ImageDataset resize_images(const ImageDataset& data, int64_t size);

// CelebA's own layout: dir/img_align_celeba/*.jpg, dir/list_attr_celeba.txt and
// dir/list_eval_partition.txt ("<file> 0|1|2": train / valid / test). split: train, valid,
// test or all. Each image is centre-cropped to 148x148 and resized to size x size, RGB;
// one class ("celeba"), the 40 attributes attached.
ImageDataset load_celeba(const std::string& dir, const std::string& split, int64_t size);

// Where Debian's dataset-fashion-mnist package installs the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace cfgan
