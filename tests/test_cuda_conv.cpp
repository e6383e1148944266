// CudaParity for the convolution kernels: forward, input gradient and weight gradient
// over stride {1, 2} x padding {0, 1} x odd sizes and non-square kernels, plus the
// DCGAN 28x28 layers at batch 2 (their transposed convolutions run the same kernels
// on the same geometries). Small-integer inputs make every sum exact, so results must
// equal the CPU's bit for bit. Outputs and the workspace sit in guarded buffers; the
// gradients start from non-zero values to prove the kernels accumulate.
#include <limits>
#include <string>

#include "tests/cuda_parity.h"

using namespace cfgan;
using namespace cfgan::testing;

namespace {

ConvGeom geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s, int64_t stride,
                  int64_t pad) {
  ConvGeom g{};
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.r = r, g.s = s;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = pad;
  g.p = (h + 2 * pad - r) / stride + 1;
  g.q = (w + 2 * pad - s) / stride + 1;
  return g;
}

std::string describe(const ConvGeom& g) {
  return "in (" + std::to_string(g.n) + "," + std::to_string(g.c) + "," + std::to_string(g.h) + "," +
         std::to_string(g.w) + ") weight (" + std::to_string(g.k) + "," + std::to_string(g.c) + "," +
         std::to_string(g.r) + "," + std::to_string(g.s) + ") stride " + std::to_string(g.stride_h) + " pad " +
         std::to_string(g.pad_h) + " -> (" + std::to_string(g.p) + "," + std::to_string(g.q) + ")";
}

std::vector<ConvGeom> geometries() {
  std::vector<ConvGeom> all;
  for (int64_t stride : {1, 2}) {
    for (int64_t pad : {0, 1}) {
      all.push_back(geometry(2, 3, 7, 9, 5, 3, 3, stride, pad));
      all.push_back(geometry(3, 2, 11, 5, 4, 2, 3, stride, pad));   // non-square kernel and input
      all.push_back(geometry(2, 3, 13, 13, 6, 3, 3, stride, pad));  // stride 1: 169 columns per image
      all.push_back(geometry(1, 5, 5, 7, 3, 1, 1, stride, pad));    // 1x1 kernel
    }
  }
  all.push_back(geometry(2, 1, 28, 28, 64, 4, 4, 2, 1));   // D.conv1, G.convT2
  all.push_back(geometry(2, 64, 14, 14, 128, 4, 4, 2, 1));  // D.conv2, G.convT1
  return all;
}

struct Tensors {
  std::vector<float> in, weight, dout, din0, dweight0;
};

Tensors make_tensors(const ConvGeom& g) {
  return {random_values(g.n * g.c * g.h * g.w, -3, 3, 1, true), random_values(g.k * g.c * g.r * g.s, -2, 2, 2, true),
          random_values(g.n * g.k * g.p * g.q, -3, 3, 3, true), random_values(g.n * g.c * g.h * g.w, -5, 5, 4, true),
          random_values(g.k * g.c * g.r * g.s, -5, 5, 5, true)};
}

std::vector<float> cpu_workspace(const ConvGeom& g) {
  return std::vector<float>(cpu_kernels().conv_workspace_floats(g));
}

}  // namespace

TEST_P(CudaParity, Conv2dForward) {
  for (const ConvGeom& g : geometries()) {
    SCOPED_TRACE(describe(g));
    const Tensors t = make_tensors(g);
    std::vector<float> expected(g.n * g.k * g.p * g.q), ws = cpu_workspace(g);
    cpu().conv2d_forward(expected.data(), t.in.data(), t.weight.data(), g, ws.data());

    GuardedBuffer<float> in(cuda(), t.in), weight(cuda(), t.weight), out(cuda(), nan_filled(expected.size()));
    GuardedBuffer<float> workspace(cuda(), nan_filled(cuda().conv_workspace_floats(g)));
    cuda().conv2d_forward(out.data(), in.data(), weight.data(), g, workspace.data());
    cuda().synchronize();
    expect_close(out.read("out"), expected, 0, 0, "conv2d_forward");
    workspace.read("workspace");  // guards only
  }
}

namespace {

// A gradient pass, pass(grad, dout, operand, g, workspace, accumulate), on both backends:
// added into grad0, and written over a gradient of NaN (whose old contents must go unread).
using GradientPass = decltype(Kernels::conv2d_backward_input);

void check_gradient_pass(const Kernels& cuda, GradientPass Kernels::*pass, const char* name, const ConvGeom& g,
                         const std::vector<float>& grad0, const std::vector<float>& dout,
                         const std::vector<float>& operand) {
  for (const bool accumulate : {true, false}) {
    SCOPED_TRACE(describe(g) + (accumulate ? " accumulating" : " writing"));
    const std::vector<float> start = accumulate ? grad0 : nan_filled(grad0.size());
    std::vector<float> expected = start, ws = cpu_workspace(g);
    (cpu_kernels().*pass)(expected.data(), dout.data(), operand.data(), g, ws.data(), accumulate);

    GuardedBuffer<float> d_dout(cuda, dout), d_operand(cuda, operand), grad(cuda, start);
    GuardedBuffer<float> workspace(cuda, nan_filled(cuda.conv_workspace_floats(g)));
    (cuda.*pass)(grad.data(), d_dout.data(), d_operand.data(), g, workspace.data(), accumulate);
    cuda.synchronize();
    expect_close(grad.read(name), expected, 0, 0, name);
    workspace.read("workspace");
  }
}

}  // namespace

TEST_P(CudaParity, Conv2dBackwardInput) {
  for (const ConvGeom& g : geometries()) {
    const Tensors t = make_tensors(g);
    check_gradient_pass(cuda(), &Kernels::conv2d_backward_input, "conv2d_backward_input", g, t.din0, t.dout, t.weight);
  }
}

TEST_P(CudaParity, Conv2dBackwardWeight) {
  for (const ConvGeom& g : geometries()) {
    const Tensors t = make_tensors(g);
    check_gradient_pass(cuda(), &Kernels::conv2d_backward_weight, "conv2d_backward_weight", g, t.dweight0, t.dout,
                        t.in);
  }
}

// The three passes with TF32 / BF16 products on the tensor cores: small integers are exact
// in both formats, so results must still equal the CPU's (rounding the same way) bit for bit.
TEST_P(CudaParity, Conv2dTensorCores) {
  for (MatmulPrecision p : {MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    for (ConvGeom g : {geometry(2, 3, 13, 13, 6, 3, 3, 1, 1), geometry(2, 1, 28, 28, 64, 4, 4, 2, 1),
                       geometry(2, 64, 14, 14, 128, 4, 4, 2, 1)}) {
      g.precision = p;
      SCOPED_TRACE(describe(g) + " " + precision_name(p));
      const Tensors t = make_tensors(g);
      std::vector<float> ws = cpu_workspace(g);
      std::vector<float> out(g.n * g.k * g.p * g.q), din = t.din0, dweight = t.dweight0;
      cpu().conv2d_forward(out.data(), t.in.data(), t.weight.data(), g, ws.data());
      cpu().conv2d_backward_input(din.data(), t.dout.data(), t.weight.data(), g, ws.data(), true);
      cpu().conv2d_backward_weight(dweight.data(), t.dout.data(), t.in.data(), g, ws.data(), true);

      GuardedBuffer<float> in(cuda(), t.in), weight(cuda(), t.weight), dout(cuda(), t.dout);
      GuardedBuffer<float> d_out(cuda(), nan_filled(out.size())), d_din(cuda(), t.din0), d_dweight(cuda(), t.dweight0);
      GuardedBuffer<float> workspace(cuda(), nan_filled(cuda().conv_workspace_floats(g)));
      cuda().conv2d_forward(d_out.data(), in.data(), weight.data(), g, workspace.data());
      cuda().conv2d_backward_input(d_din.data(), dout.data(), weight.data(), g, workspace.data(), true);
      cuda().conv2d_backward_weight(d_dweight.data(), dout.data(), in.data(), g, workspace.data(), true);
      cuda().synchronize();
      expect_close(d_out.read("out"), out, 0, 0, "conv2d_forward");
      expect_close(d_din.read("din"), din, 0, 0, "conv2d_backward_input");
      expect_close(d_dweight.read("dweight"), dweight, 0, 0, "conv2d_backward_weight");
      workspace.read("workspace");
    }
  }
}
