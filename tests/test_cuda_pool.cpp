// CudaParity for pooling and nearest upsampling.
//
// Tolerances, per kernel:
// - MaxPool2dForward, MaxPool2dBackward, AvgPool2dForward, UpsampleNearest2dForward,
//   UpsampleNearest2dBackward: exact, argmax included. Each output is the CPU's float
//   operations in the CPU's order (the backward kernels gather each input's
//   contributions in the order the CPU scatters them).
// - AvgPool2dBackward: 1e-6 absolute (about 4 ulp of the O(1) gradients): din +=
//   dout * (1 / area) may be fused into an FMA by one compiler and not the other.
#include <limits>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

struct PoolCase {
  int64_t planes, h, w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  const char* what;
};

constexpr PoolCase kPoolCases[] = {
    {1, 1, 1, 1, 1, 1, 1, 0, 0, "one element"},
    {3, 5, 7, 2, 2, 2, 2, 0, 0, "odd sizes, 2x2 windows, a row and column left over"},
    {2, 13, 13, 3, 3, 2, 2, 1, 1, "overlapping 3x3 windows, stride 2, padding"},
    {2, 7, 5, 3, 3, 1, 1, 1, 1, "overlapping 3x3 windows, stride 1, padding"},
    {1, 129, 9, 3, 2, 2, 1, 1, 0, "non-square windows and strides"},
    {2, 6, 200, 4, 4, 3, 3, 2, 2, "rows wider than a block"},
};

PoolGeom geom(const PoolCase& k) {
  PoolGeom g{};
  g.planes = k.planes, g.h = k.h, g.w = k.w;
  g.kernel_h = k.kernel_h, g.kernel_w = k.kernel_w, g.stride_h = k.stride_h, g.stride_w = k.stride_w;
  g.pad_h = k.pad_h, g.pad_w = k.pad_w;
  g.p = (g.h + 2 * g.pad_h - g.kernel_h) / g.stride_h + 1;
  g.q = (g.w + 2 * g.pad_w - g.kernel_w) / g.stride_w + 1;
  return g;
}

// Inputs of both kinds: small integers (ties everywhere, so "first max" is tested) and
// reals with a few NaNs (a NaN only wins when it is first in its window).
std::vector<float> pool_input(const PoolGeom& g, bool integers) {
  std::vector<float> x = random_values(g.planes * g.h * g.w, integers ? 0 : -1, integers ? 3 : 1, g.h * g.w, integers);
  if (!integers) {
    for (size_t i = 3; i < x.size(); i += 41) x[i] = std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

struct UpsampleCase {
  int64_t planes, h, w, scale;
};

constexpr UpsampleCase kUpsampleCases[] = {{1, 1, 1, 1}, {3, 5, 7, 2}, {2, 13, 4, 3}, {1, 3, 129, 2}, {2, 7, 7, 1}};

std::string describe(const UpsampleCase& k) {
  return "upsample " + std::to_string(k.planes) + "x" + std::to_string(k.h) + "x" + std::to_string(k.w) + " scale " +
         std::to_string(k.scale);
}

}  // namespace

TEST_P(CudaParity, MaxPool2dForward) {
  for (const PoolCase& k : kPoolCases) {
    for (const bool integers : {true, false}) {
      const std::string what = std::string("max pool, ") + k.what + (integers ? ", ties" : ", reals with NaNs");
      const PoolGeom g = geom(k);
      const std::vector<float> x = pool_input(g, integers);
      const int64_t outs = g.planes * g.p * g.q;
      std::vector<float> out(outs);
      std::vector<int32_t> argmax(outs);
      cpu().max_pool2d_forward(out.data(), argmax.data(), x.data(), g);
      GuardedBuffer<float> x_buf(cuda(), x), out_buf(cuda(), outs, 0.0f);
      GuardedBuffer<int32_t> argmax_buf(cuda(), outs, 0);
      cuda().max_pool2d_forward(out_buf.data(), argmax_buf.data(), x_buf.data(), g);
      expect_close(out_buf.read(what), out, 0.0f, 0.0f, what);
      EXPECT_EQ(argmax_buf.read(what + ", argmax"), argmax) << what;
    }
  }
}

TEST_P(CudaParity, MaxPool2dBackward) {
  for (const PoolCase& k : kPoolCases) {
    const std::string what = std::string("max pool backward, ") + k.what;
    const PoolGeom g = geom(k);
    const std::vector<float> x = pool_input(g, true);
    const int64_t ins = g.planes * g.h * g.w, outs = g.planes * g.p * g.q;
    std::vector<float> out(outs);
    std::vector<int32_t> argmax(outs);
    cpu().max_pool2d_forward(out.data(), argmax.data(), x.data(), g);
    const std::vector<float> dout = random_values(outs, -1, 1, 7);
    std::vector<float> din = random_values(ins, -1, 1, 8);  // backward accumulates
    GuardedBuffer<float> dout_buf(cuda(), dout), din_buf(cuda(), din);
    GuardedBuffer<int32_t> argmax_buf(cuda(), argmax);
    cpu().max_pool2d_backward(din.data(), dout.data(), argmax.data(), g);
    cuda().max_pool2d_backward(din_buf.data(), dout_buf.data(), argmax_buf.data(), g);
    expect_close(din_buf.read(what), din, 0.0f, 0.0f, what);
  }
}

TEST_P(CudaParity, AvgPool2dForward) {
  for (const PoolCase& k : kPoolCases) {
    const std::string what = std::string("avg pool, ") + k.what;
    const PoolGeom g = geom(k);
    const std::vector<float> x = random_values(g.planes * g.h * g.w, -1, 1, 3);
    const int64_t outs = g.planes * g.p * g.q;
    std::vector<float> out(outs);
    cpu().avg_pool2d_forward(out.data(), x.data(), g);
    GuardedBuffer<float> x_buf(cuda(), x), out_buf(cuda(), outs, 0.0f);
    cuda().avg_pool2d_forward(out_buf.data(), x_buf.data(), g);
    expect_close(out_buf.read(what), out, 0.0f, 0.0f, what);
  }
}

TEST_P(CudaParity, AvgPool2dBackward) {
  for (const PoolCase& k : kPoolCases) {
    const std::string what = std::string("avg pool backward, ") + k.what;
    const PoolGeom g = geom(k);
    const int64_t ins = g.planes * g.h * g.w, outs = g.planes * g.p * g.q;
    const std::vector<float> dout = random_values(outs, -1, 1, 5);
    std::vector<float> din = random_values(ins, -1, 1, 6);
    GuardedBuffer<float> dout_buf(cuda(), dout), din_buf(cuda(), din);
    cpu().avg_pool2d_backward(din.data(), dout.data(), g);
    cuda().avg_pool2d_backward(din_buf.data(), dout_buf.data(), g);
    expect_close(din_buf.read(what), din, 1e-6f, 0.0f, what);
  }
}

TEST_P(CudaParity, UpsampleNearest2dForward) {
  for (const UpsampleCase& k : kUpsampleCases) {
    const std::string what = describe(k);
    const std::vector<float> x = random_values(k.planes * k.h * k.w, -1, 1, 9);
    const int64_t outs = k.planes * k.h * k.w * k.scale * k.scale;
    std::vector<float> out(outs);
    cpu().upsample_nearest2d_forward(out.data(), x.data(), k.planes, k.h, k.w, k.scale);
    GuardedBuffer<float> x_buf(cuda(), x), out_buf(cuda(), outs, 0.0f);
    cuda().upsample_nearest2d_forward(out_buf.data(), x_buf.data(), k.planes, k.h, k.w, k.scale);
    EXPECT_EQ(out_buf.read(what), out) << what;
  }
}

TEST_P(CudaParity, UpsampleNearest2dBackward) {
  for (const UpsampleCase& k : kUpsampleCases) {
    const std::string what = describe(k) + " backward";
    const int64_t ins = k.planes * k.h * k.w, outs = ins * k.scale * k.scale;
    const std::vector<float> dout = random_values(outs, -1, 1, 10);
    std::vector<float> din = random_values(ins, -1, 1, 11);
    GuardedBuffer<float> dout_buf(cuda(), dout), din_buf(cuda(), din);
    cpu().upsample_nearest2d_backward(din.data(), dout.data(), k.planes, k.h, k.w, k.scale);
    cuda().upsample_nearest2d_backward(din_buf.data(), dout_buf.data(), k.planes, k.h, k.w, k.scale);
    EXPECT_EQ(din_buf.read(what), din) << what;
  }
}
