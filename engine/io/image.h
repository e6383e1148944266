// 8-bit images in memory and as PNG / JPEG files (stb_image, stb_image_write), plus
// the bridge from image tensors in [-1, 1] to pictures: single images and grids.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace cfgan {

struct Image {
  int64_t width = 0, height = 0, channels = 0;  // channels 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;                  // rows of interleaved channels (HWC)
};

// Decodes PNG / JPEG / BMP; `channels` 0 keeps the file's (gray stays 1, RGB/RGBA -> 3).
Image read_image(const std::string& path, int64_t channels = 0);
// Errors name the file and the system's reason (a full disk, a read-only directory).
void write_png(const std::string& path, const Image& image);
// The same from raw interleaved rows (width * channels bytes each).
void write_png(const std::string& path, int64_t width, int64_t height, int64_t channels, const uint8_t* pixels);

// Bilinear resize (stb_image_resize).
Image resize_image(const Image& image, int64_t width, int64_t height);

// A value in [-1, 1] -> 0..255, clamped, rounded to nearest: what every PNG we write
// holds, so images scored in memory and the same images read back from PNGs agree.
uint8_t to_byte(float v);

// One image (C,H,W) of values in [-1, 1] -> 8-bit, clamped.
Image image_from_tensor(const Tensor& chw);
// (N,C,H,W) in [-1, 1] -> a grid with `columns` columns and `padding` pixels of
// background between tiles.
Image image_grid(const Tensor& images, int64_t columns, int64_t padding = 2, uint8_t background = 255);

}  // namespace cfgan
