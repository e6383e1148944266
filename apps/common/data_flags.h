// The data flags of every program that reads images, declared and loaded in one place:
//   --data fashion-mnist | DIR (DIR/<class>/*.png) | celeba:DIR (CelebA's own layout)
//   --attributes FILE    CelebA-format attribute file for a folder (default: DIR/list_attr.txt
//                        when it exists)
//   --classes 0,3,7  --per-class N  --image-size S  --channels C
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "apps/common/flags.h"
#include "engine/data/dataset.h"

namespace cfgan {

struct DataChoice {
  std::string data, attributes;   // attributes: the file given or found; empty when none
  bool attributes_given = false;  // --attributes was on the command line
  std::vector<int32_t> classes;
  int64_t per_class = 0, image_size = 0, channels = 0;

  bool fashion_mnist() const { return data == "fashion-mnist"; }
  bool celeba() const { return data.rfind("celeba:", 0) == 0; }
};

// `per_class` is --per-class's default; `shape` false leaves out --image-size and --channels
// (a program whose images must match a classifier's).
DataChoice declare_data_flags(Flags& flags, int64_t per_class = 0, bool shape = true);

// The images of --data at size x size with `channels`, attributes attached when there are
// any. `split`: Fashion-MNIST's train or test; CelebA's train, valid, test or all; a folder
// has no splits (all its images).
ImageDataset read_data(const DataChoice& choice, const std::string& split, int64_t size, int64_t channels);

// The training images of a generative model: read_data's "train" split at the chosen size,
// then --classes and --per-class (a seeded choice).
ImageDataset read_training_images(const DataChoice& choice, uint64_t seed);

// Training and held-out images: Fashion-MNIST's and CelebA's own train / test splits, or a
// seeded `holdout` fraction of each class of a folder. --classes and --per-class applied.
std::pair<ImageDataset, ImageDataset> read_train_test(const DataChoice& choice, double holdout, uint64_t seed);

}  // namespace cfgan
