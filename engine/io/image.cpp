#include "engine/io/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

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
  const bool failed = std::ferror(file);
  std::fclose(file);
  CFGAN_CHECK(!failed, path, ": read error");
  CFGAN_CHECK(bytes.size() <= size_t{1} << 30, path, ": larger than the 1 GiB cfgan reads as one image");
  return bytes;
}

// Debian's stb_image (2.27) copies a JPEG Huffman table's declared symbols into arrays of
// 256 without checking the count, which a damaged file sets up to 4,080: a write past the
// table. Every table stb could read is checked first, walking the markers as stb does (fill
// bytes, tables read until the segment's length is used up, markers inside scan data).
bool jpeg_huffman_tables_fit(const std::vector<uint8_t>& b) {
  const auto at = [&](size_t i) -> size_t { return i < b.size() ? b[i] : 0; };  // stb reads 0 past the end
  for (size_t i = 0; i + 1 < b.size();) {
    if (b[i] != 0xFF) {
      ++i;  // scan data, or bytes stb skips looking for a marker
      continue;
    }
    const uint8_t marker = b[i + 1];
    if (marker == 0xD9) return true;  // end of image: stb reads no further
    if (marker == 0xFF) {
      ++i;  // a fill byte
      continue;
    }
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      i += 2;  // stuffed zero, TEM, restart or start of image: no length field
      continue;
    }
    const size_t length = (at(i + 2) << 8) | at(i + 3);
    if (marker == 0xC4) {
      size_t t = i + 4;
      for (ptrdiff_t left = static_cast<ptrdiff_t>(length) - 2; left > 0;) {
        size_t symbols = 0;
        for (size_t k = 1; k <= 16; ++k) symbols += at(t + k);
        if (symbols > 256) return false;
        t += 17 + symbols;
        left -= static_cast<ptrdiff_t>(17 + symbols);
      }
    }
    i += 2 + length;
  }
  return true;
}

// stb reallocates a PNG's data buffer to a chunk's declared length before reading it, so a
// 100-byte file declaring a 2 GiB IDAT chunk allocates 2 GiB. Each chunk up to IEND (where
// stb stops) must fit in the file; stb then never holds more than twice the file.
bool png_chunks_fit(const std::vector<uint8_t>& b) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() < 8 || !std::equal(kSignature, kSignature + 8, b.begin())) return true;  // not a PNG
  for (size_t i = 8; i + 8 <= b.size();) {
    const size_t length = size_t{b[i]} << 24 | size_t{b[i + 1]} << 16 | size_t{b[i + 2]} << 8 | b[i + 3];
    if (length > b.size() - i - 8 || b.size() - i - 8 - length < 4) return false;  // data, then a CRC
    if (std::equal(b.begin() + i + 4, b.begin() + i + 8, "IEND")) return true;
    i += 12 + length;
  }
  return true;
}

}  // namespace

Image read_image(const std::string& path, int64_t channels) {
  CFGAN_CHECK(channels == 0 || channels == 1 || channels == 3, "read_image: channels must be 0, 1 or 3, got ",
              channels);
  CFGAN_CHECK(std::filesystem::is_regular_file(path), path, ": no such image file");
  const std::vector<uint8_t> bytes = read_bytes(path);
  CFGAN_CHECK(bytes.empty() || bytes[0] != 0xFF || jpeg_huffman_tables_fit(bytes), path,
              ": damaged JPEG (a Huffman table declares more than 256 symbols)");
  CFGAN_CHECK(png_chunks_fit(bytes), path, ": damaged PNG (a chunk declares more bytes than the file holds)");
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
