// CudaParity for the Philox kernels: the CUDA backend draws the CPU's stream.
//
// Tolerances, per kernel:
// - Uniform in [0, 1), DropoutForward (mask and output): exact. The same Philox words,
//   one exact int-to-float conversion, a compare and one multiply.
// - Uniform in [lo, hi): 1 ulp of max(|lo|, |hi|). lo + (hi - lo) * u may be fused into
//   an FMA by one compiler and not by the other.
// - Normal: 1e-6 relative plus 6e-6 * std absolute (8 ulp of std * radius, radius <=
//   5.8): the device's logf (1 ulp) and sinf / cosf (2 ulp) are not glibc's correctly
//   rounded results.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <tuple>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct Draw {
  int64_t n;
  uint64_t seed, offset;
};

// Odd lengths leave a partial last Philox block; the last offset makes the counter
// wrap around 2^64, which both backends must do alike.
constexpr Draw kDraws[] = {{1, 0, 0},           {4, 11, 3},          {5, 1, 7},         {7, 42, 0},
                           {13, 3, 1ull << 40}, {129, 9, ~0ull - 1}, {4099, 1234567, 5}};

std::string describe(const Draw& d) {
  return "n " + std::to_string(d.n) + ", seed " + std::to_string(d.seed) + ", offset " + std::to_string(d.offset);
}

}  // namespace

TEST_P(CudaParity, Uniform) {
  for (const Draw& d : kDraws) {
    for (const auto& [lo, hi] : {std::pair{0.0f, 1.0f}, std::pair{-3.0f, 5.5f}}) {
      const std::string what = "uniform [" + std::to_string(lo) + ", " + std::to_string(hi) + "), " + describe(d);
      std::vector<float> expected(d.n);
      cpu().uniform(expected.data(), d.n, d.seed, d.offset, lo, hi);
      GuardedBuffer<float> out(cuda(), d.n, 0.0f);
      cuda().uniform(out.data(), d.n, d.seed, d.offset, lo, hi);
      const std::vector<float> got = out.read(what);
      const float ulp = FLT_EPSILON * std::max(std::fabs(lo), std::fabs(hi));
      expect_close(got, expected, lo == 0.0f && hi == 1.0f ? 0.0f : ulp, 0.0f, what);

      // A pointer that is not 16-byte aligned takes the element-by-element stores.
      GuardedBuffer<float> shifted(cuda(), d.n + 1, -7.0f);
      cuda().uniform(shifted.data() + 1, d.n, d.seed, d.offset, lo, hi);
      std::vector<float> got_shifted = shifted.read(what + ", unaligned");
      EXPECT_EQ(got_shifted[0], -7.0f) << what << ", unaligned: wrote before its start";
      got_shifted.erase(got_shifted.begin());
      EXPECT_EQ(got_shifted, got) << what << ", unaligned";
    }
  }
}

TEST_P(CudaParity, Normal) {
  for (const Draw& d : kDraws) {
    for (const auto& [mean, std] : {std::pair{0.0f, 1.0f}, std::pair{3.0f, 0.5f}}) {
      const std::string what = "normal (" + std::to_string(mean) + ", " + std::to_string(std) + "), " + describe(d);
      std::vector<float> expected(d.n);
      cpu().normal(expected.data(), d.n, d.seed, d.offset, mean, std);
      GuardedBuffer<float> out(cuda(), d.n, 0.0f);
      cuda().normal(out.data(), d.n, d.seed, d.offset, mean, std);
      expect_close(out.read(what), expected, 6e-6f * std, 1e-6f, what);
    }
  }
}

TEST_P(CudaParity, DropoutForward) {
  for (const Draw& d : kDraws) {
    const std::vector<float> in = random_values(d.n, -2, 2, d.seed + 1);
    GuardedBuffer<float> in_buf(cuda(), in);
    for (const float p : {0.0f, 0.3f, 0.5f, 1.0f}) {
      const std::string what = "dropout p " + std::to_string(p) + ", " + describe(d);
      std::vector<float> out(d.n), mask(d.n);
      cpu().dropout_forward(out.data(), mask.data(), in.data(), d.n, p, d.seed, d.offset);
      GuardedBuffer<float> out_buf(cuda(), d.n, 0.0f), mask_buf(cuda(), d.n, 0.0f);
      cuda().dropout_forward(out_buf.data(), mask_buf.data(), in_buf.data(), d.n, p, d.seed, d.offset);
      EXPECT_EQ(mask_buf.read(what + ", mask"), mask) << what;
      EXPECT_EQ(out_buf.read(what + ", out"), out) << what;

      GuardedBuffer<float> shifted(cuda(), d.n + 1, -7.0f), shifted_mask(cuda(), d.n + 1, -7.0f);
      cuda().dropout_forward(shifted.data() + 1, shifted_mask.data() + 1, in_buf.data(), d.n, p, d.seed, d.offset);
      for (auto [buffer, expected, name] :
           {std::tuple{&shifted, &out, ", unaligned out"}, std::tuple{&shifted_mask, &mask, ", unaligned mask"}}) {
        std::vector<float> got_shifted = buffer->read(what + name);
        EXPECT_EQ(got_shifted[0], -7.0f) << what << name << ": wrote before its start";
        got_shifted.erase(got_shifted.begin());
        EXPECT_EQ(got_shifted, *expected) << what << name;
      }
    }
  }
}
