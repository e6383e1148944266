// CudaParity.VendorMatchesHand: on a GPU, the cuBLAS / cuDNN baselines (CFGAN_KERNELS=
// vendor) and our kernels agree on gemm and the three convolution kernels. Random
// floats in [-1, 1): the libraries sum in other orders and cuDNN may pick FFT or
// Winograd algorithms, whose rounding is coarser than a direct sum. With at most 4096
// products per output (sums of magnitude ~20, summation-order differences ~1e-4),
// atol 2e-3 + rtol 1e-3 leaves room for that and still catches any indexing error
// (those are off by O(1)).
#include <string>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

constexpr float kAtol = 2e-3f, kRtol = 1e-3f;

[[maybe_unused]] void compare_gemm(const Kernels& hand, const Kernels& vendor, bool trans_a, bool trans_b, int64_t m,
                                   int64_t n, int64_t k, float beta, int64_t batch) {
  SCOPED_TRACE(std::string(trans_a ? "T" : "N") + (trans_b ? "T" : "N") + " " + std::to_string(m) + "x" +
               std::to_string(n) + "x" + std::to_string(k) + " batch " + std::to_string(batch));
  GemmArgs g;
  g.trans_a = trans_a, g.trans_b = trans_b;
  g.m = m, g.n = n, g.k = k;
  g.lda = trans_a ? m : k, g.ldb = trans_b ? k : n, g.ldc = n;
  g.alpha = 0.5f, g.beta = beta;
  g.batch = batch, g.stride_a = m * k, g.stride_b = k * n, g.stride_c = m * n;
  const std::vector<float> a = random_values(batch * m * k, -1, 1, 1), b = random_values(batch * k * n, -1, 1, 2),
                           c = random_values(batch * m * n, -1, 1, 3);
  std::vector<float> results[2];
  for (int which = 0; which < 2; ++which) {
    const Kernels& kern = which == 0 ? hand : vendor;
    GuardedBuffer<float> da(kern, a), db(kern, b), dc(kern, c);
    GemmArgs run = g;
    run.a = da.data(), run.b = db.data(), run.c = dc.data();
    kern.gemm(run);
    kern.synchronize();
    results[which] = dc.read(kern.name);
  }
  expect_close(results[1], results[0], kAtol, kRtol, "gemm: cuBLAS vs ours");
}

[[maybe_unused]] void compare_conv(const Kernels& hand, const Kernels& vendor, const ConvGeom& g) {
  SCOPED_TRACE("conv (" + std::to_string(g.n) + "," + std::to_string(g.c) + "," + std::to_string(g.h) + ") -> (" +
               std::to_string(g.k) + "," + std::to_string(g.p) + ") kernel " + std::to_string(g.r) + " stride " +
               std::to_string(g.stride_h) + " pad " + std::to_string(g.pad_h));
  const std::vector<float> in = random_values(g.n * g.c * g.h * g.w, -1, 1, 1),
                           weight = random_values(g.k * g.c * g.r * g.s, -1, 1, 2),
                           dout = random_values(g.n * g.k * g.p * g.q, -1, 1, 3);
  std::vector<float> out[2], din[2], dweight[2];
  for (int which = 0; which < 2; ++which) {
    const Kernels& kern = which == 0 ? hand : vendor;
    GuardedBuffer<float> d_in(kern, in), d_weight(kern, weight), d_dout(kern, dout);
    GuardedBuffer<float> d_out(kern, g.n * g.k * g.p * g.q, 0.0f), d_din(kern, in), d_dweight(kern, weight);
    GuardedBuffer<float> workspace(kern, kern.conv_workspace_floats(g), 0.0f);
    kern.conv2d_forward(d_out.data(), d_in.data(), d_weight.data(), g, workspace.data());
    kern.conv2d_backward_input(d_din.data(), d_dout.data(), d_weight.data(), g, workspace.data(), true);
    kern.conv2d_backward_weight(d_dweight.data(), d_dout.data(), d_in.data(), g, workspace.data(), true);
    kern.synchronize();
    out[which] = d_out.read("out"), din[which] = d_din.read("din"), dweight[which] = d_dweight.read("dweight");
  }
  expect_close(out[1], out[0], kAtol, kRtol, "conv2d_forward: cuDNN vs ours");
  expect_close(din[1], din[0], kAtol, kRtol, "conv2d_backward_input: cuDNN vs ours");
  expect_close(dweight[1], dweight[0], kAtol, kRtol, "conv2d_backward_weight: cuDNN vs ours");
}

[[maybe_unused]] ConvGeom geometry(int64_t n, int64_t c, int64_t side, int64_t k, int64_t kernel, int64_t stride,
                                   int64_t pad) {
  ConvGeom g{};
  g.n = n, g.c = c, g.h = g.w = side, g.k = k, g.r = g.s = kernel;
  g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
  g.p = g.q = (side + 2 * pad - kernel) / stride + 1;
  return g;
}

}  // namespace

TEST_P(CudaParity, VendorMatchesHand) {
  if (GetParam() == CudaTarget::emulated) {
    GTEST_SKIP() << "cuBLAS / cuDNN exist only on the real backend: the device variant of this test compares them";
  }
#if defined(CFGAN_HAVE_CUDA)
  const Kernels& hand = cuda::hand_kernels();
  const Kernels& vendor = cuda::vendor_kernels();
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      compare_gemm(hand, vendor, trans_a, trans_b, 129, 67, 200, 0.0f, 1);
      compare_gemm(hand, vendor, trans_a, trans_b, 300, 260, 64, 1.0f, 3);
      compare_gemm(hand, vendor, trans_a, trans_b, 4, 500, 1000, 0.0f, 2);
    }
  }
  compare_conv(hand, vendor, geometry(3, 5, 11, 7, 3, 1, 1));
  compare_conv(hand, vendor, geometry(2, 4, 13, 6, 3, 2, 0));
  // The DCGAN-64 layers at batch 2.
  compare_conv(hand, vendor, geometry(2, 3, 64, 64, 4, 2, 1));
  compare_conv(hand, vendor, geometry(2, 64, 32, 128, 4, 2, 1));
  compare_conv(hand, vendor, geometry(2, 128, 16, 256, 4, 2, 1));
  compare_conv(hand, vendor, geometry(2, 256, 8, 512, 4, 2, 1));
#endif
}
