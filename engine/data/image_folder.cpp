#include <algorithm>
#include <cctype>
#include <filesystem>

#include "engine/data/dataset.h"
#include "engine/error.h"
#include "engine/io/image.h"

namespace cfgan {
namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

template <typename Pred>
std::vector<fs::path> sorted_entries(const fs::path& dir, Pred keep) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (keep(entry)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ImageDataset load_image_folder(const std::string& root, int64_t size, int64_t channels) {
  CFGAN_CHECK(channels == 1 || channels == 3, "image folder: channels must be 1 or 3, got ", channels);
  CFGAN_CHECK(size >= 4, "image folder: image size must be at least 4, got ", size);
  CFGAN_CHECK(fs::is_directory(root), root, ": not a directory (expected root/<class>/*.png|jpg)");
  const auto class_dirs = sorted_entries(root, [](const fs::directory_entry& e) { return e.is_directory(); });
  CFGAN_CHECK(!class_dirs.empty(), root, ": has no class sub-folders (expected root/<class>/*.png|jpg)");
  ImageDataset data;
  data.channels = channels;
  data.height = data.width = size;
  data.source = root;
  for (const fs::path& dir : class_dirs) {
    const auto files = sorted_entries(dir, [](const fs::directory_entry& e) {
      return e.is_regular_file() && is_image_file(e.path());
    });
    if (files.empty()) continue;
    const int32_t label = static_cast<int32_t>(data.class_names.size());
    data.class_names.push_back(dir.filename().string());
    for (const fs::path& file : files) {
      const Image image = resize_image(read_image(file.string(), channels), size, size);
      // HWC -> CHW
      for (int64_t c = 0; c < channels; ++c) {
        for (int64_t i = 0; i < size * size; ++i) data.pixels.push_back(image.pixels[i * channels + c]);
      }
      data.labels.push_back(label);
      data.files.push_back(file.filename().string());
      ++data.count;
    }
  }
  CFGAN_CHECK(data.count > 0, root, ": no .png/.jpg/.jpeg/.bmp images in any class sub-folder");
  return data;
}

}  // namespace cfgan
