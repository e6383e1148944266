// Our CUDA convolution kernels (kernels/cuda/conv.cu: im2col + our GEMM, split along K
// when a product is too small for the GPU) against cuDNN (FP32 / FMA math, the
// algorithm its heuristics rank first), on the DCGAN-64 layers at batch 128, all k4 s2
// p1. A D conv layer and its mirror G convT layer share one geometry: the D layer's
// forward is the G layer's input gradient and vice versa, and both take the weight
// gradient. See bench/cuda_bench.h for the timing and the counters (GFLOP/s, vs_cudnn).
//
//   build/bench/bench_cuda_conv --benchmark_min_time=0.2
//
// Without a GPU it says so and exits 0.
#include <string>

#include "bench/cuda_bench.h"

namespace {

using cfgan::ConvGeom;

struct Layer {
  const char* name;
  int64_t c, k, side;  // channels in, channels out, input side
};

constexpr Layer kLayers[] = {{"D.conv1|G.convT5", 3, 64, 64},
                             {"D.conv2|G.convT4", 64, 128, 32},
                             {"D.conv3|G.convT3", 128, 256, 16},
                             {"D.conv4|G.convT2", 256, 512, 8}};

ConvGeom geometry(const Layer& l) {
  ConvGeom g{};
  g.n = 128, g.c = l.c, g.h = g.w = l.side;
  g.k = l.k, g.r = g.s = 4;
  g.stride_h = g.stride_w = 2, g.pad_h = g.pad_w = 1;
  g.p = g.q = l.side / 2;
  return g;
}

enum class Pass { forward, backward_input, backward_weight };
constexpr const char* kPassNames[] = {"fwd(D.fwd,G.dx)", "dgrad(D.dx,G.fwd)", "wgrad"};

void bench_conv(benchmark::State& state, ConvGeom g, Pass pass, const std::string& shape, bool vendor,
                cfgan::MatmulPrecision precision) {
  g.precision = precision;
  const cfgan::Kernels& k = vendor ? cfgan::cuda::vendor_kernels() : cfgan::cuda::hand_kernels();
  cfgan::bench::DeviceBuffer in(g.n * g.c * g.h * g.w, 1), weight(g.k * g.c * g.r * g.s, 2),
      out(g.n * g.k * g.p * g.q, 3), workspace(k.conv_workspace_floats(g), 4);
  const double seconds = cfgan::bench::time_calls(state, [&] {
    switch (pass) {
      case Pass::forward:
        k.conv2d_forward(out.data(), in.data(), weight.data(), g, workspace.data());
        break;
      case Pass::backward_input:
        k.conv2d_backward_input(in.data(), out.data(), weight.data(), g, workspace.data(), true);
        break;
      case Pass::backward_weight:
        k.conv2d_backward_weight(weight.data(), out.data(), in.data(), g, workspace.data(), true);
        break;
    }
  });
  const double flops = 2.0 * double(g.n * g.k * g.p * g.q) * double(g.c * g.r * g.s);
  cfgan::bench::report(state, flops, seconds, shape + cfgan::precision_name(precision), vendor, "vs_cudnn");
}

}  // namespace

int main(int argc, char** argv) {
  cfgan::bench::exit_without_gpu("bench_cuda_conv");
  for (const Layer& l : kLayers) {
    const ConvGeom g = geometry(l);
    for (Pass pass : {Pass::forward, Pass::backward_input, Pass::backward_weight}) {
      const std::string shape = std::string(l.name) + "/128x" + std::to_string(l.c) + "x" + std::to_string(l.side) +
                                "^2->" + std::to_string(l.k) + "x" + std::to_string(l.side / 2) + "^2/" +
                                kPassNames[static_cast<int>(pass)];
      for (cfgan::MatmulPrecision p :
           {cfgan::MatmulPrecision::fp32, cfgan::MatmulPrecision::tf32, cfgan::MatmulPrecision::bf16}) {
        for (bool vendor : {true, false}) {
          if (vendor && p == cfgan::MatmulPrecision::bf16) continue;  // cuDNN has no BF16 on FP32 tensors
          const std::string library = cfgan::bench::library_name(vendor ? "cudnn" : "ours", p);
          benchmark::RegisterBenchmark(("conv/" + library + "/" + shape).c_str(),
                                       [g, pass, shape, vendor, p](benchmark::State& state) {
                                         bench_conv(state, g, pass, shape, vendor, p);
                                       })
              ->UseManualTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  return cfgan::bench::run_benchmarks(argc, argv);
}
