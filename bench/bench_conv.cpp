// The CPU convolution kernels (kernels/cpu/conv.cpp: implicit GEMM, Winograd, dot products
// over the batch) at the convolutions of a batch-64 DCGAN on 28x28 images and of DCGAN-32,
// at 1 and 2 threads. GFLOP/s counts the direct convolution's 2 * N*P*Q * K * C*R*S per
// call (an effective rate for the Winograd passes, which run 25/64 of it), so the gap to
// bench_gemm's number for the same product is what the lowering costs. Each pass runs in
// FP32 and, with the suffix /bf16, on BF16 operands.
//
//   build-gemm/bench/bench_conv
//
// A transposed convolution runs the convolution kernels with input and output swapped
// (engine/ops/conv.cpp): its forward is conv2d_backward_input, its input gradient is
// conv2d_forward and its weight gradient is conv2d_backward_weight with the two
// activations exchanged.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <string>
#include <vector>

#include "bench/random_floats.h"
#include "kernels/kernels.h"

namespace {

using cfgan::ConvGeom;

// A stride-2, padding-1, 4x4 convolution over a batch of 64 from c channels at size
// h to k channels at size h / 2.
ConvGeom dcgan_geometry(int64_t c, int64_t h, int64_t k) {
  ConvGeom g{};
  g.n = 64, g.c = c, g.h = h, g.w = h;
  g.k = k, g.r = 4, g.s = 4;
  g.stride_h = g.stride_w = 2, g.pad_h = g.pad_w = 1;
  g.p = g.q = h / 2;
  return g;
}

// The generator's first transposed convolution, a 4x4 kernel from 1x1 noise to 4x4 at
// stride 1 (as a convolution: from k channels at 4x4 to c channels at 1x1).
ConvGeom first_upsampling(int64_t c, int64_t k) {
  ConvGeom g = dcgan_geometry(k, 4, c);
  g.stride_h = g.stride_w = 1, g.pad_h = g.pad_w = 0;
  g.p = g.q = 1;
  return g;
}

enum class Pass { forward, input_grad, weight_grad };

struct ConvCase {
  std::string name;
  ConvGeom g;  // of the convolution (for a transposed one, the equivalent convolution)
  bool transposed;
  Pass pass;
};

std::vector<ConvCase> cases() {
  struct Layer {
    const char* label;
    ConvGeom g;
    bool transposed;
  };
  const Layer layers[] = {
      {"D.conv1(1->64,28->14)", dcgan_geometry(1, 28, 64), false},
      {"D.conv2(64->128,14->7)", dcgan_geometry(64, 14, 128), false},
      {"G.convT1(128->64,7->14)", dcgan_geometry(64, 14, 128), true},
      {"G.convT2(64->1,14->28)", dcgan_geometry(1, 28, 64), true},
      // DCGAN-32 (3-channel 32x32 images): its other layers have these geometries too
      // (G32.convT1 is D32.conv3's, G32.convT2 D32.conv2's, G32.convT3 D32.conv1's).
      {"D32.conv1(3->64,32->16)", dcgan_geometry(3, 32, 64), false},
      {"D32.conv2(64->128,16->8)", dcgan_geometry(64, 16, 128), false},
      {"D32.conv3(128->256,8->4)", dcgan_geometry(128, 8, 256), false},
      {"G32.convT0(100->256,1->4)", first_upsampling(100, 256), true},
  };
  const std::pair<Pass, const char*> passes[] = {
      {Pass::forward, "fwd"}, {Pass::input_grad, "dgrad"}, {Pass::weight_grad, "wgrad"}};
  std::vector<ConvCase> out;
  for (const Layer& l : layers) {
    for (const auto& [pass, pass_name] : passes) {
      out.push_back({std::string(l.transposed ? "conv_transpose2d/" : "conv2d/") + pass_name + "/" + l.label, l.g,
                     l.transposed, pass});
    }
  }
  return out;
}

void bench_conv(benchmark::State& state, const ConvCase& cc, int threads) {
  const cfgan::Kernels& k = cfgan::cpu_kernels();
  const ConvGeom& g = cc.g;
  // Buffers named by the convolution's roles: `in` (N,C,H,W), `out` (N,K,P,Q).
  std::vector<float> in = random_floats(g.n * g.c * g.h * g.w, 1), out = random_floats(g.n * g.k * g.p * g.q, 2);
  std::vector<float> weight = random_floats(g.k * g.c * g.r * g.s, 3);
  std::vector<float> workspace(k.conv_workspace_floats(g));
  omp_set_num_threads(threads);
  // Which kernel runs: the transposed op's forward is the convolution's input gradient
  // and vice versa; the weight gradient is the same kernel either way.
  Pass kernel = cc.pass;
  if (cc.transposed && cc.pass != Pass::weight_grad) {
    kernel = cc.pass == Pass::forward ? Pass::input_grad : Pass::forward;
  }
  for (auto _ : state) {
    switch (kernel) {
      case Pass::forward:
        k.conv2d_forward(out.data(), in.data(), weight.data(), g, workspace.data());
        break;
      case Pass::input_grad:
        k.conv2d_backward_input(in.data(), out.data(), weight.data(), g, workspace.data(), true);
        break;
      case Pass::weight_grad:
        k.conv2d_backward_weight(weight.data(), out.data(), in.data(), g, workspace.data(), true);
        break;
    }
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * g.n * g.p * g.q * g.k * g.c * g.r * g.s;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (int threads : {1, 2}) {
    for (ConvCase cc : cases()) {
      const std::string name = cc.name + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), bench_conv, cc, threads)->UseRealTime();
      // The same pass on BF16 operands (--precision bf16: the pair micro-kernels where the CPU has them).
      cc.g.precision = cfgan::MatmulPrecision::bf16;
      benchmark::RegisterBenchmark((name + "/bf16").c_str(), bench_conv, cc, threads)->UseRealTime();
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
