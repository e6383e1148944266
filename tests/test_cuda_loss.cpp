// CudaParity for the losses (kernels/cuda/loss.cu).
//
// BCE runs over sizes that are not multiples of 4 or of a block, with every array on
// a 16-byte boundary (float4 path) and one float past it (scalar path), and logits out
// to +-100 where a naive log(1 + exp(x)) overflows. Cross-entropy rows take a warp
// (up to 2048 classes) or a block.
//
// Tolerances, per kernel (values O(1) to O(100)):
// - BceWithLogits: 1e-6 relative + 4e-6 absolute: CUDA's expf and log1pf are within
//   1-2 ulp, not correctly rounded, and nvcc contracts max(x, 0) - x * t into an FMA,
//   which skips the rounding of x * t: half an ulp of |x t| <= 100 is 3.8e-6.
// - BceWithLogitsBackward: 1e-6 relative + 4e-6 absolute: expf, and FMA contraction of
//   dtarget - dout * x (|dout x| <= 100).
// - CrossEntropy: 1e-6 relative + 2e-6 absolute: log(sum) + max - x[label] of terms up
//   to 20, an ulp of which is 1.9e-6.
// - CrossEntropyBackward: 1e-6 relative + 1e-6 absolute: expf, and FMA contraction.
#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

constexpr int64_t kSizes[] = {1, 5, 7, 13, 129, 100003};

std::vector<float> logits_for(int64_t n, uint64_t seed) {
  std::vector<float> x = random_values(n, -30, 30, seed);
  const float extremes[] = {0.0f, 100.0f, -100.0f, 20.0f};
  for (size_t i = 0; i < std::size(extremes) && i < x.size(); ++i) x[i] = extremes[i];
  return x;
}

struct Rows {
  int64_t rows, classes;
};

constexpr Rows kRows[] = {{1, 1}, {7, 5}, {13, 10}, {5, 129}, {3, 2048}, {2, 2049}, {64, 1000}, {1, 100003}};

std::vector<int32_t> labels_for(const Rows& s, uint64_t seed) {
  std::vector<int32_t> labels(s.rows);
  const std::vector<float> u = random_values(s.rows, 0, static_cast<float>(s.classes) - 1, seed, true);
  for (int64_t i = 0; i < s.rows; ++i) labels[i] = static_cast<int32_t>(u[i]);
  return labels;
}

std::string describe(const std::string& what, const Rows& s) {
  return what + " (rows " + std::to_string(s.rows) + ", classes " + std::to_string(s.classes) + ")";
}

}  // namespace

TEST_P(CudaParity, BceWithLogits) {
  for (const int64_t n : kSizes) {
    for (const int shift : {0, 1}) {
      const std::vector<float> logits = logits_for(n + shift, n), target = random_values(n + shift, 0, 1, n + 1);
      std::vector<float> expected(n + shift, 0.0f);
      cpu().bce_with_logits_forward(expected.data() + shift, logits.data() + shift, target.data() + shift, n);
      GuardedBuffer<float> out(cuda(), n + shift, 0.0f), logits_buf(cuda(), logits), target_buf(cuda(), target);
      cuda().bce_with_logits_forward(out.data() + shift, logits_buf.data() + shift, target_buf.data() + shift, n);
      const std::string what = "bce_with_logits_forward, n " + std::to_string(n) + ", shift " + std::to_string(shift);
      expect_close(out.read(what), expected, 4e-6f, 1e-6f, what);
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().bce_with_logits_forward(p, p, p, 0);
  EXPECT_EQ(untouched.read("bce_with_logits_forward, n 0"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, BceWithLogitsBackward) {
  for (const int64_t n : kSizes) {
    for (const int shift : {0, 1}) {
      const std::vector<float> logits = logits_for(n + shift, n), target = random_values(n + shift, 0, 1, n + 1),
                               dout = random_values(n + shift, -1, 1, n + 2);
      // Both gradients, then each alone (the other null): non-zero, the kernel must add. A
      // gradient asked for alone is the one asked for with the other.
      std::vector<float> both_dlogits = random_values(n + shift, -1, 1, n + 3),
                         both_dtarget = random_values(n + shift, -1, 1, n + 4);
      cpu().bce_with_logits_backward(both_dlogits.data() + shift, both_dtarget.data() + shift, dout.data() + shift,
                                     logits.data() + shift, target.data() + shift, n);
      for (const auto& [with_logits, with_target] :
           std::initializer_list<std::pair<bool, bool>>{{true, true}, {true, false}, {false, true}}) {
        std::vector<float> dlogits = random_values(n + shift, -1, 1, n + 3),
                           dtarget = random_values(n + shift, -1, 1, n + 4);
        GuardedBuffer<float> dlogits_buf(cuda(), dlogits), dtarget_buf(cuda(), dtarget), dout_buf(cuda(), dout),
            logits_buf(cuda(), logits), target_buf(cuda(), target);
        cpu().bce_with_logits_backward(with_logits ? dlogits.data() + shift : nullptr,
                                       with_target ? dtarget.data() + shift : nullptr, dout.data() + shift,
                                       logits.data() + shift, target.data() + shift, n);
        cuda().bce_with_logits_backward(with_logits ? dlogits_buf.data() + shift : nullptr,
                                        with_target ? dtarget_buf.data() + shift : nullptr, dout_buf.data() + shift,
                                        logits_buf.data() + shift, target_buf.data() + shift, n);
        const std::string what = "bce_with_logits_backward, n " + std::to_string(n) + ", shift " +
                                 std::to_string(shift) + (with_logits ? ", dlogits" : "") +
                                 (with_target ? ", dtarget" : "");
        expect_close(dlogits_buf.read(what), dlogits, 4e-6f, 1e-6f, what + ": dlogits");
        expect_close(dtarget_buf.read(what), dtarget, 4e-6f, 1e-6f, what + ": dtarget");
        if (with_logits) EXPECT_EQ(dlogits, both_dlogits) << what;
        if (with_target) EXPECT_EQ(dtarget, both_dtarget) << what;
      }
    }
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  float* p = untouched.data();
  cuda().bce_with_logits_backward(p, p, p, p, p, 0);
  EXPECT_EQ(untouched.read("bce_with_logits_backward, n 0"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, CrossEntropy) {
  for (const Rows& s : kRows) {
    const std::vector<float> logits = random_values(s.rows * s.classes, -10, 10, s.rows);
    const std::vector<int32_t> labels = labels_for(s, s.classes);
    std::vector<float> expected(s.rows);
    cpu().cross_entropy_forward(expected.data(), logits.data(), labels.data(), s.rows, s.classes);
    GuardedBuffer<float> loss(cuda(), s.rows, 0.0f), logits_buf(cuda(), logits);
    GuardedBuffer<int32_t> labels_buf(cuda(), labels);
    cuda().cross_entropy_forward(loss.data(), logits_buf.data(), labels_buf.data(), s.rows, s.classes);
    const std::string what = describe("cross_entropy_forward", s);
    expect_close(loss.read(what), expected, 2e-6f, 1e-6f, what);
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  GuardedBuffer<int32_t> label(cuda(), 1, 0);
  cuda().cross_entropy_forward(untouched.data(), untouched.data(), label.data(), 0, 5);
  EXPECT_EQ(untouched.read("cross_entropy_forward, rows 0"), std::vector<float>{7.0f});
}

TEST_P(CudaParity, CrossEntropyBackward) {
  for (const Rows& s : kRows) {
    const std::vector<float> logits = random_values(s.rows * s.classes, -10, 10, s.rows),
                             dloss = random_values(s.rows, -1, 1, s.rows + 1);
    const std::vector<int32_t> labels = labels_for(s, s.classes);
    std::vector<float> dlogits = random_values(s.rows * s.classes, -1, 1, s.rows + 2);  // non-zero: must add
    GuardedBuffer<float> dlogits_buf(cuda(), dlogits), dloss_buf(cuda(), dloss), logits_buf(cuda(), logits);
    GuardedBuffer<int32_t> labels_buf(cuda(), labels);
    cpu().cross_entropy_backward(dlogits.data(), dloss.data(), logits.data(), labels.data(), s.rows, s.classes);
    cuda().cross_entropy_backward(dlogits_buf.data(), dloss_buf.data(), logits_buf.data(), labels_buf.data(), s.rows,
                                  s.classes);
    const std::string what = describe("cross_entropy_backward", s);
    expect_close(dlogits_buf.read(what), dlogits, 1e-6f, 1e-6f, what);
  }
  // An empty shape launches nothing (an empty grid is an error) and writes nothing.
  GuardedBuffer<float> untouched(cuda(), 1, 7.0f);
  GuardedBuffer<int32_t> label(cuda(), 1, 0);
  cuda().cross_entropy_backward(untouched.data(), untouched.data(), untouched.data(), label.data(), 0, 5);
  EXPECT_EQ(untouched.read("cross_entropy_backward, rows 0"), std::vector<float>{7.0f});
}
