#include "models/toy2d/data.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"

namespace cfgan {
namespace {

// Uniform integers in [0, count): floor of uniform floats, clamped because a float
// uniform may round up to exactly 1.
std::vector<int32_t> random_indices(int64_t n, int64_t count, Generator& gen) {
  const std::vector<float> u = Tensor::rand({n}, gen).to_host();
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    out[i] = static_cast<int32_t>(std::min<int64_t>(count - 1, static_cast<int64_t>(u[i] * count)));
  }
  return out;
}

// Rows `modes[i]` of the centers plus std * N(0, 1) noise -> (n, 2).
Tensor points_at(const ToyMixture& mixture, const std::vector<int32_t>& modes, Generator& gen) {
  const int64_t n = static_cast<int64_t>(modes.size());
  std::vector<float> xy = Tensor::randn({n, 2}, gen, Device::cpu, 0.0f, mixture.std).to_host();
  for (int64_t i = 0; i < n; ++i) {
    xy[2 * i] += mixture.centers[2 * modes[i]];
    xy[2 * i + 1] += mixture.centers[2 * modes[i] + 1];
  }
  return Tensor::from_host({n, 2}, xy);
}

}  // namespace

// ---- data ----

ToyMixture make_toy_mixture(const std::string& name) {
  ToyMixture m{.name = name};
  if (name == "ring") {
    m.std = 0.01f;
    for (int k = 0; k < 8; ++k) {
      const double angle = 2.0 * M_PI * k / 8.0;
      m.centers.push_back(static_cast<float>(std::cos(angle)));
      m.centers.push_back(static_cast<float>(std::sin(angle)));
    }
  } else if (name == "grid") {
    m.std = 0.05f;
    for (int i = -2; i <= 2; ++i) {
      for (int j = -2; j <= 2; ++j) {
        m.centers.push_back(2.0f * i);
        m.centers.push_back(2.0f * j);
      }
    }
  } else {
    fail("--data: expected ring or grid, got '", name, "'");
  }
  return m;
}

Tensor sample_mixture(const ToyMixture& mixture, int64_t n, Generator& gen) {
  return points_at(mixture, random_indices(n, mixture.modes(), gen), gen);
}

ToyData::ToyData(ToyMixture mixture, int64_t per_mode, uint64_t seed)
    : mixture_(std::move(mixture)), per_mode_(per_mode), gen_(seed ^ 0xda7aull) {
  CFGAN_CHECK(per_mode >= 0, "--per-mode: must be >= 0 (0: unlimited), got ", per_mode);
  if (per_mode == 0) return;
  std::vector<int32_t> modes;
  for (int32_t k = 0; k < mixture_.modes(); ++k) modes.insert(modes.end(), static_cast<size_t>(per_mode), k);
  set_ = points_at(mixture_, modes, gen_);
}

Tensor ToyData::next(int64_t batch) {
  if (per_mode_ == 0) return sample_mixture(mixture_, batch, gen_);
  return index_select(set_, 0, random_indices(batch, set_.dim(0), gen_));
}

}  // namespace cfgan
