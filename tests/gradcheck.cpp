#include "tests/gradcheck.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/random.h"

namespace cfgan::testing {

void check_gradients(const std::string& what, const OpUnderTest& op, const std::vector<GradInput>& inputs,
                     Tolerance tol) {
  for (const std::string& failure : gradient_check_failures(what, op, inputs, tol)) ADD_FAILURE() << failure;
}

void check_second_order(const std::string& what, const OpUnderTest& op, const std::vector<GradInput>& inputs,
                        Tolerance tol) {
  for (const std::string& failure : second_order_check_failures(what, op, inputs, tol)) ADD_FAILURE() << failure;
}

Tensor uniform(const Shape& shape, uint64_t seed, float lo, float hi) {
  Generator gen(seed);
  return Tensor::rand(shape, gen, Device::cpu, lo, hi);
}

Tensor uniform_away_from(const Shape& shape, uint64_t seed, float lo, float hi, const std::vector<float>& kinks) {
  Generator gen(seed);
  auto near_kink = [&](float v) {
    return std::any_of(kinks.begin(), kinks.end(), [&](float k) { return std::fabs(v - k) <= 2.0 * kEps; });
  };
  std::vector<float> values = Tensor::rand(shape, gen, Device::cpu, lo, hi).to_host();
  for (float& v : values) {
    while (near_kink(v)) v = Tensor::rand(Shape{1}, gen, Device::cpu, lo, hi).item();
  }
  return Tensor::from_host(shape, values);
}

Tensor distinct_values(const Shape& shape, uint64_t seed, float start, float step) {
  const int64_t n = shape.numel();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Generator gen(seed);
  const std::vector<float> u = Tensor::rand(Shape{n}, gen).to_host();
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    const auto j = std::min<int64_t>(i, static_cast<int64_t>(u[i] * static_cast<float>(i + 1)));
    std::swap(order[i], order[j]);
  }
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = start + step * static_cast<float>(order[i]);
  return Tensor::from_host(shape, values);
}

}  // namespace cfgan::testing
