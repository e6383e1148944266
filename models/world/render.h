// Draws one causal-world image from its attributes and its nuisance noise, deterministically:
// a background (light or dark, striped or plain), one object (red or blue, large or small,
// round or square) and an optional mark on it, anti-aliased by each shape's distance field,
// plus per-pixel Gaussian noise keyed by the unit. Also the per-factor masks: the pixels each
// of the three factors (object, mark, background) covers at all.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/world/scm.h"

namespace cfgan {

// The attributes the renderer knows how to draw, and the factor (mask) each one paints.
const std::vector<std::string>& renderable_attributes();
inline constexpr int kWorldFactors = 3;
inline constexpr std::array<const char*, kWorldFactors> kWorldFactorNames{"object", "mark", "background"};
int factor_painted_by(const std::string& attribute);  // index into kWorldFactorNames

// The continuous nuisance factors, each from its own exogenous U in [0, 1) (noise_key: an
// integer below 2^24 that seeds the pixel noise).
inline constexpr int kWorldNuisance = 9;
inline constexpr std::array<const char*, kWorldNuisance> kWorldNuisanceNames{
    "position_x",    "position_y", "rotation",    "hue",      "size_jitter",
    "texture_phase", "mark_angle", "mark_radius", "noise_key"};

struct WorldLook {
  bool red = false, large = false, round = false, spotted = false, striped = false, light = false;
};
// The look of a unit whose attributes (+1 / -1, in the spec's order) are `a`; attributes the
// spec leaves out are -1.
WorldLook look_of(const WorldSpec& spec, const int8_t* a);

// Writes the RGB image (3, S, S) to `chw` and, when `masks` is not null, its masks
// (kWorldFactors, S, S) as 0/1 bytes. `nuisance` points at kWorldNuisance values.
void render_world_image(int64_t size, double pixel_noise, const WorldLook& look, const float* nuisance, uint8_t* chw,
                        uint8_t* masks);

// Units [begin, begin + n) rendered in parallel: images (n, 3, S, S) into `pixels`, their
// attributes (n, K) into `attributes`. Unit i is factual where `intervention(i)` is empty,
// else drawn under it with `effect`; a null `intervention` means all factual.
using UnitIntervention = std::function<Intervention(int64_t unit)>;
void render_units(const WorldSpec& spec, const WorldUnits& units, int64_t begin, int64_t n,
                  const UnitIntervention& intervention, Effect effect, uint8_t* pixels, int8_t* attributes);

}  // namespace cfgan
