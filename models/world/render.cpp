#include "models/world/render.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "models/world/spec.h"

namespace cfgan {
namespace {

struct Color {
  float r, g, b;
};

Color mix(Color a, Color b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }

// Coverage of a pixel by a shape at signed distance d (pixels; negative inside): a one-pixel
// linear ramp across the edge, which is what a box-filtered edge looks like.
float coverage(float d) { return std::clamp(0.5f - d, 0.0f, 1.0f); }

// Two standard normals from one hash (Box-Muller). The pixel noise is a pure function of
// (unit key, pixel), so an intervention that leaves a pixel's content alone leaves its
// noise, and so the pixel, alone.
std::pair<float, float> gaussian_pair(uint64_t key) {
  const uint64_t h = world_hash(key);
  const double u1 = (static_cast<double>(h >> 40) + 0.5) / 16777216.0;
  const double u2 = static_cast<double>((h >> 16) & 0xFFFFFF) / 16777216.0;
  const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * u2;
  return {static_cast<float>(radius * std::cos(angle)), static_cast<float>(radius * std::sin(angle))};
}

uint8_t quantize(float v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

}  // namespace

const std::vector<std::string>& renderable_attributes() {
  static const std::vector<std::string> names{
      "Red", "Large", "Round", "Spotted", "Striped_Background", "Light_Background"};
  return names;
}

int factor_painted_by(const std::string& attribute) {
  if (attribute == "Red" || attribute == "Large" || attribute == "Round") return 0;
  if (attribute == "Spotted") return 1;
  if (attribute == "Striped_Background" || attribute == "Light_Background") return 2;
  fail("no factor is painted by attribute '", attribute, "'");
}

WorldLook look_of(const WorldSpec& spec, const int8_t* a) {
  WorldLook look;
  for (size_t k = 0; k < spec.attributes.size(); ++k) {
    const std::string& n = spec.attributes[k].name;
    const bool on = a[k] > 0;
    if (n == "Red")
      look.red = on;
    else if (n == "Large")
      look.large = on;
    else if (n == "Round")
      look.round = on;
    else if (n == "Spotted")
      look.spotted = on;
    else if (n == "Striped_Background")
      look.striped = on;
    else if (n == "Light_Background")
      look.light = on;
  }
  return look;
}

void render_world_image(int64_t size, double pixel_noise, const WorldLook& look, const float* u, uint8_t* chw,
                        uint8_t* masks) {
  const float s = static_cast<float>(size), unit = s / 32.0f;  // geometry is designed at 32 px and scales
  const float pos_x = u[0], pos_y = u[1], rotation = u[2], hue = u[3], size_jitter = u[4], phase = u[5];
  const float mark_angle = u[6], mark_radius = u[7];
  const auto noise_key = static_cast<uint64_t>(u[8]);

  // The object: centre in the middle 30% of the image, so the largest rotated square stays inside.
  const float radius = s * (look.large ? 0.25f : 0.15f) * (0.9f + 0.2f * size_jitter);
  const float cx = s * (0.35f + 0.3f * pos_x), cy = s * (0.35f + 0.3f * pos_y);
  const float half_side = radius * 0.886f;  // a square of the circle's area
  const float angle = rotation * static_cast<float>(M_PI) / 2, ca = std::cos(angle), sa = std::sin(angle);
  const Color body =
      look.red ? Color{0.85f, 0.10f + 0.2f * (hue - 0.5f), 0.10f} : Color{0.10f, 0.22f + 0.2f * (hue - 0.5f), 0.85f};
  // The mark: a white dot inside the object, where its own noise puts it.
  const float mark_r = std::max(0.28f * radius, 1.2f * unit);
  const float mark_d = 0.3f * radius * mark_radius, mark_a = 2 * static_cast<float>(M_PI) * mark_angle;
  const float mx = cx + mark_d * std::cos(mark_a), my = cy + mark_d * std::sin(mark_a);
  const Color white{0.95f, 0.95f, 0.95f};
  // The background: diagonal stripes (the salient, learnable shortcut) or a faint broad wave.
  const float base = look.light ? 0.72f : 0.30f;
  const float period = 6.0f * unit, amplitude = look.striped ? 0.2f : 0.03f;
  const float wavelength = look.striped ? period : s;

  const int64_t plane = size * size;
  const float sigma = static_cast<float>(pixel_noise);
  for (int64_t y = 0; y < size; ++y)
    for (int64_t x = 0; x < size; ++x) {
      const float px = static_cast<float>(x) + 0.5f, py = static_cast<float>(y) + 0.5f;
      const float along = look.striped ? (px + py) * 0.70710678f : px;
      const float wave = std::sin(2 * static_cast<float>(M_PI) * (along / wavelength + phase));
      const float g = base + amplitude * wave;
      Color c{g, g, g};

      const float dx = px - cx, dy = py - cy;
      float d;
      if (look.round) {
        d = std::hypot(dx, dy) - radius;
      } else {
        const float qx = std::abs(ca * dx + sa * dy) - half_side, qy = std::abs(-sa * dx + ca * dy) - half_side;
        d = std::hypot(std::max(qx, 0.0f), std::max(qy, 0.0f)) + std::min(std::max(qx, qy), 0.0f);
      }
      const float object = coverage(d);
      c = mix(c, body, object);
      const float mark = look.spotted ? coverage(std::hypot(px - mx, py - my) - mark_r) * object : 0.0f;
      c = mix(c, white, mark);

      const int64_t p = y * size + x;
      const auto [n0, n1] = gaussian_pair((noise_key << 24) ^ static_cast<uint64_t>(p) * 2);
      const float n2 = gaussian_pair((noise_key << 24) ^ (static_cast<uint64_t>(p) * 2 + 1)).first;
      chw[p] = quantize(c.r + sigma * n0);
      chw[plane + p] = quantize(c.g + sigma * n1);
      chw[2 * plane + p] = quantize(c.b + sigma * n2);
      if (masks) {
        masks[p] = object > 0;
        masks[plane + p] = mark > 0;
        masks[2 * plane + p] = object < 1;
      }
    }
}

void render_units(const WorldSpec& spec, const WorldUnits& units, int64_t begin, int64_t n,
                  const UnitIntervention& intervention, Effect effect, uint8_t* pixels, int8_t* attributes) {
  const int64_t k_count = spec.num_attributes(), image = 3 * spec.image_size * spec.image_size;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t unit = begin + i;
    int8_t* a = attributes + i * k_count;
    solve_attributes(spec, units.row(unit), intervention ? intervention(unit) : Intervention{}, effect, a);
    render_world_image(spec.image_size, spec.pixel_noise, look_of(spec, a), units.row(unit) + k_count,
                       pixels + i * image, nullptr);
  }
}

}  // namespace cfgan
