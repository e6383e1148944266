#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "engine/data/attributes.h"
#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/image.h"

namespace cfgan {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kCrop = 148;  // the centre square of an aligned 178x218 face that holds the face

// file name -> partition (0 train, 1 valid, 2 test)
std::unordered_map<std::string, int> read_partition(const std::string& path) {
  std::ifstream in(path);
  CFGAN_CHECK(in, path, ": cannot open CelebA's partition file");
  std::unordered_map<std::string, int> out;
  int64_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::string file, part, extra;
    if (!(words >> file)) continue;
    CFGAN_CHECK((words >> part) && !(words >> extra) && (part == "0" || part == "1" || part == "2"), path, ":",
                line_number, ": expected '<file> 0|1|2', got '", line, "'");
    out[file] = part[0] - '0';
  }
  return out;
}

}  // namespace

ImageDataset load_celeba(const std::string& dir, const std::string& split, int64_t size) {
  const std::vector<std::string> splits{"train", "valid", "test", "all"};
  const auto wanted = std::find(splits.begin(), splits.end(), split) - splits.begin();
  CFGAN_CHECK(wanted < 4, "CelebA split: expected train, valid, test or all, got '", split, "'");
  CFGAN_CHECK(size >= 4 && size <= kCrop, "CelebA image size: expected 4..", kCrop, ", got ", size);
  const fs::path root(dir), images = root / "img_align_celeba";
  CFGAN_CHECK(fs::is_directory(images), dir, ": no img_align_celeba/ folder (expected CelebA's layout: ",
              "img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt)");
  const AttributeTable table = read_attribute_file((root / "list_attr_celeba.txt").string());
  const auto partition = read_partition((root / "list_eval_partition.txt").string());

  ImageDataset data;
  data.channels = 3;
  data.height = data.width = size;
  data.class_names = {"celeba"};
  data.source = "celeba:" + dir + " (" + split + ")";
  data.attribute_names = table.names;
  const int64_t k = table.num_attributes();
  for (int64_t row = 0; row < table.count(); ++row) {
    const std::string& file = table.files[row];
    const auto part = partition.find(file);
    CFGAN_CHECK(part != partition.end(), (root / "list_eval_partition.txt").string(), ": no line for ", file);
    if (wanted != 3 && part->second != wanted) continue;
    const std::string path = (images / file).string();
    CFGAN_CHECK(fs::is_regular_file(path), path, ": listed in list_attr_celeba.txt but missing");
    const Image image = read_image(path, 3);
    CFGAN_CHECK(image.width >= kCrop && image.height >= kCrop, path, ": ", image.width, "x", image.height,
                " is smaller than the ", kCrop, "x", kCrop, " centre crop");
    Image crop{kCrop, kCrop, 3, std::vector<uint8_t>(static_cast<size_t>(kCrop * kCrop * 3))};
    const int64_t x0 = (image.width - kCrop) / 2, y0 = (image.height - kCrop) / 2;
    for (int64_t y = 0; y < kCrop; ++y)
      std::copy_n(image.pixels.begin() + ((y0 + y) * image.width + x0) * 3, kCrop * 3,
                  crop.pixels.begin() + y * kCrop * 3);
    const Image resized = resize_image(crop, size, size);
    for (int64_t c = 0; c < 3; ++c)  // HWC -> CHW
      for (int64_t i = 0; i < size * size; ++i) data.pixels.push_back(resized.pixels[i * 3 + c]);
    data.labels.push_back(0);
    data.files.push_back(file);
    data.attributes.insert(data.attributes.end(), table.values.begin() + row * k, table.values.begin() + (row + 1) * k);
    ++data.count;
  }
  CFGAN_CHECK(data.count > 0, dir, ": no images in the ", split, " split");
  return data;
}

}  // namespace cfgan
