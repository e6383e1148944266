// Benchmark operands: n floats uniform in [-1, 1) from a seeded std::mt19937, so every
// bench and every run times the same data.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

inline std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}
