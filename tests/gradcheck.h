// The gradient checker (engine/gradcheck.h) as GoogleTest assertions, and the inputs the
// gradient tests draw.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/gradcheck.h"
#include "engine/tensor.h"

namespace cfgan::testing {

constexpr double kEps = kGradCheckStep;
using Tolerance = GradTolerance;
using cfgan::GradInput;
using cfgan::OpUnderTest;

// engine/gradcheck.h's checks, each failure reported to GoogleTest.
void check_gradients(const std::string& what, const OpUnderTest& op, const std::vector<GradInput>& inputs,
                     Tolerance tol);
// engine/gradcheck.h's second-order checks, likewise.
void check_second_order(const std::string& what, const OpUnderTest& op, const std::vector<GradInput>& inputs,
                        Tolerance tol);

// ---- inputs ----
// Uniform in [lo, hi), from Generator(seed).
Tensor uniform(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// Uniform in [lo, hi) with every value more than 2 * kEps from each kink (values that
// land closer are redrawn), so x +- kEps never crosses a kink.
Tensor uniform_away_from(const Shape& shape, uint64_t seed, float lo, float hi, const std::vector<float>& kinks);
// A shuffled grid {start, start + step, ...}: all values distinct and at least `step`
// apart, so a perturbation of kEps never changes which element is the maximum.
Tensor distinct_values(const Shape& shape, uint64_t seed, float start = -1.0f, float step = 0.05f);

}  // namespace cfgan::testing
