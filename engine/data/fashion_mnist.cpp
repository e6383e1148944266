#include "engine/data/dataset.h"
#include "engine/data/idx.h"
#include "engine/error.h"

namespace cfgan {

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

ImageDataset load_fashion_mnist(const std::string& dir, const std::string& split) {
  CFGAN_CHECK(split == "train" || split == "test", "fashion-mnist: split must be train or test, got '", split, "'");
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte.gz", labels_path = prefix + "-labels-idx1-ubyte.gz";
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  CFGAN_CHECK(images.dims.size() == 3, images_path, ": expected 3 dimensions (count, rows, cols), got ",
              images.dims.size());
  CFGAN_CHECK(labels.dims.size() == 1, labels_path, ": expected 1 dimension (count), got ", labels.dims.size());
  CFGAN_CHECK(labels.dims[0] == images.dims[0], labels_path, ": has ", labels.dims[0], " labels but ", images_path,
              " has ", images.dims[0], " images");
  ImageDataset data;
  data.count = images.dims[0];
  data.channels = 1;
  data.height = images.dims[1];
  data.width = images.dims[2];
  data.pixels = images.data;
  data.class_names = fashion_mnist_class_names();
  data.source = "fashion-mnist/" + split;
  data.labels.reserve(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    CFGAN_CHECK(labels.data[i] < 10, labels_path, ": label ", int(labels.data[i]), " at position ", i,
                " is not a Fashion-MNIST class (0-9)");
    data.labels.push_back(labels.data[i]);
  }
  return data;
}

}  // namespace cfgan
