#include "engine/io/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "engine/error.h"
#include "engine/io/image_structure.h"

namespace cfgan {

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  CFGAN_CHECK(file, path, ": cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (size_t got; (got = std::fread(chunk, 1, sizeof chunk, file)) > 0;) {
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (bytes.size() > size_t{1} << 30) break;
  }
  const int failed = std::ferror(file) ? errno : 0;
  std::fclose(file);
  CFGAN_CHECK(!failed, path, ": cannot read (", std::strerror(failed), ")");
  CFGAN_CHECK(bytes.size() <= size_t{1} << 30, path, ": larger than the 1 GiB cfgan reads as one image");
  return bytes;
}

}  // namespace

Image read_image(const std::string& path, int64_t channels) {
  CFGAN_CHECK(channels == 0 || channels == 1 || channels == 3, "read_image: channels must be 0, 1 or 3, got ",
              channels);
  CFGAN_CHECK(std::filesystem::is_regular_file(path), path, ": no such image file");
  const std::vector<uint8_t> bytes = read_bytes(path);
  check_image_structure(path, bytes);
  const int size = static_cast<int>(bytes.size());
  int w = 0, h = 0, file_channels = 0;
  CFGAN_CHECK(stbi_info_from_memory(bytes.data(), size, &w, &h, &file_channels), path, ": not a readable image (",
              stbi_failure_reason(), ")");
  // stb allocates the announced size and fills what the file does not hold with zeros, so
  // a damaged header could make a few bytes decode for minutes. No PNG, JPEG or BMP holds
  // more than 16,384 pixels per byte (deflate expands at most ~1,032x, 8 one-bit pixels per
  // byte), and cfgan's datasets hold nothing near 2^26 pixels per image.
  // A top-down BMP announces a negative height, which stb reports as it is.
  const int64_t width = std::abs(int64_t{w}), height = std::abs(int64_t{h}), pixels = width * height;
  const int64_t most = std::min<int64_t>(int64_t{1} << 26, int64_t{size} * 16384);
  CFGAN_CHECK(pixels <= most, path, ": the header announces ", width, " x ", height, " pixels, more than ",
              pixels > (int64_t{1} << 26) ? "cfgan reads (2^26)" : "a file of this size can hold", "; damaged?");
  const int want = channels ? static_cast<int>(channels) : (file_channels <= 2 ? 1 : 3);
  unsigned char* data = stbi_load_from_memory(bytes.data(), size, &w, &h, &file_channels, want);
  CFGAN_CHECK(data, path, ": cannot decode image (", stbi_failure_reason(), ")");
  Image image{w, h, want, std::vector<uint8_t>(data, data + static_cast<size_t>(w) * h * want)};
  stbi_image_free(data);
  return image;
}

void write_png(const std::string& path, int64_t width, int64_t height, int64_t channels, const uint8_t* pixels) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  CFGAN_CHECK(!ec, path, ": cannot create directory ", parent.string(), " (", ec.message(), ")");
  // stb's own file writer ignores failed writes; a full disk must not pass for a written PNG.
  struct Sink {
    std::FILE* file;
    int error;
  } sink{std::fopen(path.c_str(), "wb"), 0};
  CFGAN_CHECK(sink.file, path, ": cannot open for writing (", std::strerror(errno), ")");
  const auto write = [](void* context, void* data, int size) {
    Sink& s = *static_cast<Sink*>(context);
    if (s.error == 0 && std::fwrite(data, 1, static_cast<size_t>(size), s.file) != static_cast<size_t>(size))
      s.error = errno;
  };
  const int encoded = stbi_write_png_to_func(write, &sink, static_cast<int>(width), static_cast<int>(height),
                                             static_cast<int>(channels), pixels, static_cast<int>(width * channels));
  if (std::fclose(sink.file) != 0 && sink.error == 0) sink.error = errno;
  if (encoded && sink.error == 0) return;
  std::remove(path.c_str());
  fail(path, ": cannot write PNG file (", encoded ? std::strerror(sink.error) : "encoding failed", ")");
}

void write_png(const std::string& path, const Image& image) {
  write_png(path, image.width, image.height, image.channels, image.pixels.data());
}

Image resize_image(const Image& image, int64_t width, int64_t height) {
  if (image.width == width && image.height == height) return image;
  Image out{width, height, image.channels, std::vector<uint8_t>(static_cast<size_t>(width * height * image.channels))};
  const int ok = stbir_resize_uint8(image.pixels.data(), static_cast<int>(image.width), static_cast<int>(image.height),
                                    0, out.pixels.data(), static_cast<int>(width), static_cast<int>(height), 0,
                                    static_cast<int>(image.channels));
  CFGAN_CHECK(ok, "resize_image: cannot resize ", image.width, "x", image.height, " to ", width, "x", height);
  return out;
}

uint8_t to_byte(float v) { return static_cast<uint8_t>(std::lround(std::clamp((v + 1.0f) * 127.5f, 0.0f, 255.0f))); }

Image image_from_tensor(const Tensor& chw) {
  CFGAN_CHECK(chw.ndim() == 3 && (chw.dim(0) == 1 || chw.dim(0) == 3), "image_from_tensor: expected (C,H,W) with C ",
              "1 or 3, got ", chw.shape().str());
  return image_grid(chw.view_as({1, chw.dim(0), chw.dim(1), chw.dim(2)}), 1, 0);
}

Image image_grid(const Tensor& images, int64_t columns, int64_t padding, uint8_t background) {
  CFGAN_CHECK(images.ndim() == 4 && (images.dim(1) == 1 || images.dim(1) == 3),
              "image_grid: expected (N,C,H,W) with C 1 or 3, got ", images.shape().str());
  CFGAN_CHECK(columns >= 1 && padding >= 0, "image_grid: columns must be >= 1 and padding >= 0");
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  const int64_t cols = std::min(columns, std::max<int64_t>(n, 1)), rows = (n + cols - 1) / cols;
  Image grid{cols * w + (cols + 1) * padding, rows * h + (rows + 1) * padding, c, {}};
  grid.pixels.assign(static_cast<size_t>(grid.width * grid.height * c), background);
  const std::vector<float> values = images.to_host();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x0 = padding + (i % cols) * (w + padding), y0 = padding + (i / cols) * (h + padding);
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          grid.pixels[((y0 + y) * grid.width + x0 + x) * c + ch] = to_byte(values[((i * c + ch) * h + y) * w + x]);
        }
      }
    }
  }
  return grid;
}

}  // namespace cfgan
