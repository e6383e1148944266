// Loading PyTorch golden fixtures (tests/golden/*.safetensors, written by
// tests/golden/make_fixtures.py) and comparing tensors against them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "engine/io/safetensors.h"
#include "engine/nn/module.h"
#include "engine/ops.h"

namespace cfgan::testing {

inline SafetensorsFile load_golden(const std::string& name) {
  return load_safetensors(std::string(CFGAN_SOURCE_DIR) + "/tests/golden/" + name + ".safetensors");
}

// Every element within atol + rtol * |expected|; reports the worst element.
inline void expect_close(const Tensor& actual, const Tensor& expected, float atol, float rtol,
                         const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what << " is undefined";
  ASSERT_EQ(actual.shape(), expected.shape())
      << what << ": shape " << actual.shape().str() << " vs " << expected.shape().str();
  const std::vector<float> a = actual.to_host(), e = expected.to_host();
  size_t worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double excess = std::fabs(double(a[i]) - e[i]) - (atol + rtol * std::fabs(e[i]));
    if (!(excess <= worst_excess) || std::isnan(a[i])) {
      worst_excess = std::isnan(a[i]) ? INFINITY : excess;
      worst = i;
    }
  }
  EXPECT_LE(worst_excess, 0.0) << what << ": element " << worst << " is " << a[worst] << ", PyTorch gives " << e[worst]
                               << " (atol " << atol << ", rtol " << rtol << ")";
}

// The fixture script's hashed_uniform: the same bits without storing the weights.
inline Tensor hashed_uniform(const Shape& shape, uint64_t salt, double scale) {
  std::vector<float> values(static_cast<size_t>(shape.numel()));
  for (uint64_t i = 0; i < values.size(); ++i) {
    uint64_t h = (i * 2654435761ull + salt * 40503ull) % 4294967296ull;
    h = (h ^ (h >> 15)) * 2246822519ull % 4294967296ull;
    h ^= h >> 13;
    const double u = static_cast<double>(h >> 8) / 16777216.0;
    values[i] = static_cast<float>((u * 2 - 1) * scale);
  }
  return Tensor::from_host(shape, values);
}

// The fixture script's hashed_init: parameter i (in named_parameters order) gets salt i,
// 1-D weights (batch norm's gamma) are centred on 1.
inline void hashed_init(Module& m) {
  uint64_t salt = 0;
  for (auto& [name, p] : m.named_parameters()) {
    Tensor v = hashed_uniform(p.shape(), salt++, 0.02 * std::sqrt(3.0));
    if (p.ndim() == 1 && name.size() >= 6 && name.substr(name.size() - 6) == "weight") v = v + 1.0f;
    p.copy_(v);
  }
}

// ||actual - expected|| / ||expected|| over all elements.
inline double norm_relative_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<float> a = actual.to_host(), e = expected.to_host();
  double diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff2 += (double(a[i]) - e[i]) * (double(a[i]) - e[i]);
    ref2 += double(e[i]) * e[i];
  }
  return std::sqrt(diff2 / std::max(ref2, 1e-300));
}

// A model's state after one Adam step against the fixture's `prefix`ed tensors: within
// 1e-4 in norm, and all but 0.1% of the elements within 1e-4 relative on their own.
// Adam's first update is lr * g / (|g| + eps): about lr * sign(g), whatever |g|. Where a
// gradient element is ~1e-8 (a sum that cancels), fp32 summation order moves it by a
// large fraction of itself and the update by up to lr, so a few elements may miss.
inline void expect_state_after_adam_step(Module& model, const TensorMap& fixture, const std::string& prefix) {
  for (auto& [name, t] : model.state_dict()) {
    const Tensor& expected = fixture.at(prefix + name);
    ASSERT_EQ(t.shape(), expected.shape()) << prefix << name;
    const std::vector<float> a = t.to_host(), e = expected.to_host();
    size_t off = 0;
    for (size_t i = 0; i < a.size(); ++i) off += std::fabs(double(a[i]) - e[i]) > 1e-4 * std::fabs(e[i]);
    const double relative = norm_relative_error(t, expected);
    EXPECT_LE(relative, 1e-4) << prefix << name;
    EXPECT_LE(off, a.size() / 1000) << prefix << name << ": " << off << " of " << a.size()
                                    << " elements differ by more than 1e-4 relative";
    std::printf("%s%-26s norm-relative error %.2e, %zu/%zu elements beyond 1e-4\n", prefix.c_str(), name.c_str(),
                relative, off, a.size());
  }
}

inline std::vector<int32_t> as_labels(const Tensor& t) {
  std::vector<int32_t> labels;
  for (float v : t.to_host()) labels.push_back(static_cast<int32_t>(v));
  return labels;
}

}  // namespace cfgan::testing
