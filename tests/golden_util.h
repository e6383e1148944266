// Loading PyTorch golden fixtures (tests/golden/*.safetensors, written by
// tests/golden/make_fixtures.py) and comparing tensors against them.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/io/safetensors.h"

namespace cfgan::testing {

inline SafetensorsFile load_golden(const std::string& name) {
  return load_safetensors(std::string(CFGAN_SOURCE_DIR) + "/tests/golden/" + name + ".safetensors");
}

// Every element within atol + rtol * |expected|; reports the worst element.
inline void expect_close(const Tensor& actual, const Tensor& expected, float atol, float rtol,
                         const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what << " is undefined";
  ASSERT_EQ(actual.shape(), expected.shape()) << what << ": shape " << actual.shape().str() << " vs "
                                              << expected.shape().str();
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
  EXPECT_LE(worst_excess, 0.0) << what << ": element " << worst << " is " << a[worst] << ", PyTorch gives "
                               << e[worst] << " (atol " << atol << ", rtol " << rtol << ")";
}

inline std::vector<int32_t> as_labels(const Tensor& t) {
  std::vector<int32_t> labels;
  for (float v : t.to_host()) labels.push_back(static_cast<int32_t>(v));
  return labels;
}

}  // namespace cfgan::testing
