// What is done with attribution and difference maps once computed: their per-pixel magnitude,
// how much of it falls on a known cause (the pointing score), and a picture of it.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/io/image.h"
#include "engine/tensor.h"

namespace cfgan {

// Maps (N, C, H, W) -> (N, H, W) row-major: |a| summed over channels. A difference map is
// map_magnitudes(a - b).
std::vector<float> map_magnitudes(const Tensor& maps);

// How much of a map lies on a mask beyond chance: with e the share of the map's total inside
// the mask and m the mask's share of the pixels, (e - m) / (1 - m) — 0 for a uniform map, 1 when
// the whole map is inside, negative when it avoids the mask. NaN when the map is all zero or
// the mask is empty or covers every pixel (nothing to point at).
double pointing_score(const float* magnitude, const uint8_t* mask, int64_t pixels);

// A map as a picture: scaled by its maximum, through a black - red - yellow - white ramp,
// each pixel repeated `scale` times in both directions.
Image heat_image(const float* magnitude, int64_t height, int64_t width, int64_t scale = 1);

}  // namespace cfgan
