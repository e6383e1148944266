#include "apps/common/data_flags.h"

#include <filesystem>

#include "engine/data/attributes.h"
#include "engine/error.h"

namespace cfgan {

DataChoice declare_data_flags(Flags& flags, int64_t per_class, bool shape) {
  DataChoice c;
  c.data = flags.get("data", "fashion-mnist", "fashion-mnist, a folder root/<class>/*.png, or celeba:DIR");
  c.attributes = flags.get("attributes", "", "CelebA-format attribute file of a folder (default: DIR/list_attr.txt)");
  c.attributes_given = !c.attributes.empty();
  c.classes = flags.get_int_list("classes", "keep only these classes, e.g. 0,3,7");
  c.per_class = flags.get_int("per-class", per_class, "images per class (0: all)");
  const bool folder = !c.fashion_mnist();
  if (shape) {
    c.image_size = flags.get_int("image-size", folder ? 64 : 28, "28, 32 or 64");
    c.channels = flags.get_int("channels", folder ? 3 : 1, "image channels for folders: 1 or 3");
  }
  CFGAN_CHECK(c.per_class >= 0, "--per-class: must be >= 0, got ", c.per_class);
  CFGAN_CHECK(!c.attributes_given || (!c.fashion_mnist() && !c.celeba()), "--attributes: only for a folder of images ",
              "(Fashion-MNIST has none; CelebA's are read from its own list_attr_celeba.txt)");
  if (!c.attributes_given && folder && !c.celeba()) {
    const std::filesystem::path found = std::filesystem::path(c.data) / "list_attr.txt";
    if (std::filesystem::is_regular_file(found)) c.attributes = found.string();
  }
  return c;
}

ImageDataset read_data(const DataChoice& c, const std::string& split, int64_t size, int64_t channels) {
  if (c.fashion_mnist()) {
    CFGAN_CHECK(channels == 1, "--data fashion-mnist: its images have 1 channel, ", channels, " are wanted");
    return resize_images(load_fashion_mnist(kFashionMnistDir, split), size);
  }
  if (c.celeba()) {
    CFGAN_CHECK(channels == 3, "--data ", c.data, ": CelebA's images are RGB, ", channels, " channel(s) are wanted");
    return load_celeba(c.data.substr(7), split, size);
  }
  ImageDataset data = load_image_folder(c.data, size, channels);
  if (!c.attributes.empty()) attach_attributes(data, read_attribute_file(c.attributes), "--attributes " + c.attributes);
  return data;
}

ImageDataset read_training_images(const DataChoice& c, uint64_t seed) {
  ImageDataset data = read_data(c, "train", c.image_size, c.channels);
  if (!c.classes.empty() || c.per_class > 0) data = select_subset(data, c.classes, c.per_class, seed);
  return data;
}

std::pair<ImageDataset, ImageDataset> read_train_test(const DataChoice& c, double holdout, uint64_t seed) {
  ImageDataset train, test;
  if (c.fashion_mnist() || c.celeba()) {
    train = read_data(c, "train", c.image_size, c.channels);
    test = read_data(c, "test", c.image_size, c.channels);
    if (!c.classes.empty()) test = select_subset(test, c.classes, 0, seed);
    if (!c.classes.empty() || c.per_class > 0) train = select_subset(train, c.classes, c.per_class, seed);
    return {train, test};
  }
  ImageDataset all = read_data(c, "all", c.image_size, c.channels);
  if (!c.classes.empty()) all = select_subset(all, c.classes, 0, seed);
  std::tie(train, test) = split_holdout(all, holdout, seed);
  // The classes again: select_subset keeps labels as they were, so without them the classes
  // --classes dropped would count as empty.
  if (c.per_class > 0) train = select_subset(train, c.classes, c.per_class, seed);
  return {train, test};
}

}  // namespace cfgan
