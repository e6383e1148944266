#include <cmath>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/parallel.h"
#include "kernels/philox.h"

namespace cfgan::cpu {

void uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t block = 0; block < (n + 3) / 4; ++block) {
    const Philox4 r = philox4x32_10(offset + block, seed);
    for (int j = 0; j < 4 && block * 4 + j < n; ++j) out[block * 4 + j] = lo + (hi - lo) * philox_unit(r.v[j]);
  }
}

void normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  constexpr float kTwoPi = 6.283185307179586f;
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t block = 0; block < (n + 3) / 4; ++block) {
    const Philox4 r = philox4x32_10(offset + block, seed);
    for (int pair = 0; pair < 2; ++pair) {
      const float radius = std::sqrt(-2.0f * std::log(philox_unit_open0(r.v[2 * pair])));
      const float angle = kTwoPi * philox_unit(r.v[2 * pair + 1]);
      const int64_t i = block * 4 + 2 * pair;
      if (i < n) out[i] = mean + std * radius * std::cos(angle);
      if (i + 1 < n) out[i + 1] = mean + std * radius * std::sin(angle);
    }
  }
}

void dropout_forward(float* out, float* mask, const float* in, int64_t n, float p, uint64_t seed, uint64_t offset) {
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (int64_t block = 0; block < (n + 3) / 4; ++block) {
    const Philox4 r = philox4x32_10(offset + block, seed);
    for (int j = 0; j < 4 && block * 4 + j < n; ++j) {
      const int64_t i = block * 4 + j;
      mask[i] = philox_unit(r.v[j]) >= p ? keep_scale : 0.0f;
      out[i] = in[i] * mask[i];
    }
  }
}

}  // namespace cfgan::cpu
