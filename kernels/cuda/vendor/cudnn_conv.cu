// The convolution kernels on cuDNN (cudnnConvolutionForward / BackwardData /
// BackwardFilter), the yardstick for conv.cu. Cross-correlation like ours; the backward
// passes run with beta = 1, so they accumulate as the contract asks.
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernels/cuda/vendor/vendor.h"

namespace cfgan::cuda::vendor {
namespace {

void check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuDNN: ") + what + " failed: " + cudnnGetErrorString(status));
  }
}

int to_int(int64_t v, const char* dim) {
  if (v < 0 || v > INT_MAX) {
    throw std::runtime_error(std::string("cuDNN convolution: ") + dim + " = " + std::to_string(v) +
                             " does not fit cuDNN's int sizes (0.." + std::to_string(INT_MAX) + ")");
  }
  return static_cast<int>(v);
}

// One handle for the process, on the default stream; never destroyed (it lives as
// long as the CUDA context).
cudnnHandle_t handle() {
  static const cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    check(cudnnCreate(&created), "cudnnCreate");
    return created;
  }();
  return h;
}

// An algorithm cuDNN's heuristics rank first among those of the precision: FP32 (FMA
// math, tensor cores off, as in our FP32 kernels) or TF32 (tensor-op math on FP32 data,
// which cuDNN runs in TF32); never a down-conversion to FP16.
template <typename Perf>
auto best_algorithm(const Perf* perf, int count, MatmulPrecision precision, const char* pass) {
  for (int i = 0; i < count; ++i) {
    const bool fma = perf[i].mathType != CUDNN_TENSOR_OP_MATH && perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    const bool allowed = precision == MatmulPrecision::tf32 ? perf[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION : fma;
    if (perf[i].status == CUDNN_STATUS_SUCCESS && allowed) return perf[i].algo;
  }
  throw std::runtime_error(std::string("cuDNN offers no ") + precision_name(precision) + " algorithm for the " + pass +
                           " convolution");
}

// Descriptors and algorithms for one geometry, made on first use and kept for the
// process (like the handle), so that a timed call does only the convolution.
struct Plan {
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnConvolutionFwdAlgo_t forward;
  cudnnConvolutionBwdDataAlgo_t backward_data;
  cudnnConvolutionBwdFilterAlgo_t backward_filter;
  size_t workspace_bytes = 0;  // the largest of the three algorithms' needs
};

std::unique_ptr<Plan> make_plan(const ConvGeom& g) {
  if (g.precision == MatmulPrecision::bf16) {
    throw std::runtime_error("cuDNN convolution: no bf16 path on FP32 tensors (cuDNN would need bf16 copies of "
                             "them); use fp32 or tf32 with the cuDNN baseline");
  }
  auto plan = std::make_unique<Plan>();
  check(cudnnCreateTensorDescriptor(&plan->x), "cudnnCreateTensorDescriptor");
  check(cudnnCreateTensorDescriptor(&plan->y), "cudnnCreateTensorDescriptor");
  check(cudnnCreateFilterDescriptor(&plan->w), "cudnnCreateFilterDescriptor");
  check(cudnnCreateConvolutionDescriptor(&plan->conv), "cudnnCreateConvolutionDescriptor");
  check(cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, to_int(g.n, "n"),
                                   to_int(g.c, "c"), to_int(g.h, "h"), to_int(g.w, "w")),
        "cudnnSetTensor4dDescriptor (input)");
  check(cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, to_int(g.n, "n"),
                                   to_int(g.k, "k"), to_int(g.p, "p"), to_int(g.q, "q")),
        "cudnnSetTensor4dDescriptor (output)");
  check(cudnnSetFilter4dDescriptor(plan->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, to_int(g.k, "k"),
                                   to_int(g.c, "c"), to_int(g.r, "r"), to_int(g.s, "s")),
        "cudnnSetFilter4dDescriptor");
  check(cudnnSetConvolution2dDescriptor(plan->conv, to_int(g.pad_h, "pad_h"), to_int(g.pad_w, "pad_w"),
                                        to_int(g.stride_h, "stride_h"), to_int(g.stride_w, "stride_w"), 1, 1,
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionMathType(plan->conv, g.precision == MatmulPrecision::tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH),
        "cudnnSetConvolutionMathType");
  std::array<int, 4> dims{};
  check(cudnnGetConvolution2dForwardOutputDim(plan->conv, plan->x, plan->w, &dims[0], &dims[1], &dims[2], &dims[3]),
        "cudnnGetConvolution2dForwardOutputDim");
  if (dims != std::array<int, 4>{to_int(g.n, "n"), to_int(g.k, "k"), to_int(g.p, "p"), to_int(g.q, "q")}) {
    throw std::runtime_error("cuDNN convolution: output (" + std::to_string(g.n) + "," + std::to_string(g.k) + "," +
                             std::to_string(g.p) + "," + std::to_string(g.q) + ") differs from cuDNN's (" +
                             std::to_string(dims[0]) + "," + std::to_string(dims[1]) + "," +
                             std::to_string(dims[2]) + "," + std::to_string(dims[3]) + ")");
  }

  cudnnHandle_t h = handle();
  int count = 0;
  size_t bytes = 0;
  cudnnConvolutionFwdAlgoPerf_t forward[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  check(cudnnGetConvolutionForwardAlgorithm_v7(h, plan->x, plan->w, plan->conv, plan->y,
                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, forward),
        "cudnnGetConvolutionForwardAlgorithm_v7");
  plan->forward = best_algorithm(forward, count, g.precision, "forward");
  check(cudnnGetConvolutionForwardWorkspaceSize(h, plan->x, plan->w, plan->conv, plan->y, plan->forward, &bytes),
        "cudnnGetConvolutionForwardWorkspaceSize");
  plan->workspace_bytes = std::max(plan->workspace_bytes, bytes);

  cudnnConvolutionBwdDataAlgoPerf_t backward_data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  check(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, plan->w, plan->y, plan->conv, plan->x,
                                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, backward_data),
        "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  plan->backward_data = best_algorithm(backward_data, count, g.precision, "backward-data");
  check(cudnnGetConvolutionBackwardDataWorkspaceSize(h, plan->w, plan->y, plan->conv, plan->x, plan->backward_data,
                                                     &bytes),
        "cudnnGetConvolutionBackwardDataWorkspaceSize");
  plan->workspace_bytes = std::max(plan->workspace_bytes, bytes);

  cudnnConvolutionBwdFilterAlgoPerf_t backward_filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, plan->x, plan->y, plan->conv, plan->w,
                                                      CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count,
                                                      backward_filter),
        "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  plan->backward_filter = best_algorithm(backward_filter, count, g.precision, "backward-filter");
  check(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, plan->x, plan->y, plan->conv, plan->w,
                                                       plan->backward_filter, &bytes),
        "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  plan->workspace_bytes = std::max(plan->workspace_bytes, bytes);
  return plan;
}

const Plan& plan_for(const ConvGeom& g) {
  static std::mutex mutex;
  static std::map<std::array<int64_t, 14>, std::unique_ptr<Plan>> plans;
  const std::array<int64_t, 14> key{g.n,        g.c,        g.h,     g.w,     g.k, g.r, g.s,
                                    g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.p, g.q, static_cast<int64_t>(g.precision)};
  const std::lock_guard lock(mutex);
  std::unique_ptr<Plan>& plan = plans[key];
  if (!plan) plan = make_plan(g);
  return *plan;
}

constexpr float kOne = 1.0f, kZero = 0.0f;

}  // namespace

int64_t conv_workspace_floats(const ConvGeom& g) {
  return static_cast<int64_t>((plan_for(g).workspace_bytes + sizeof(float) - 1) / sizeof(float));
}

void conv2d_forward(float* out, const float* in, const float* weight, const ConvGeom& g, float* workspace) {
  const Plan& p = plan_for(g);
  check(cudnnConvolutionForward(handle(), &kOne, p.x, in, p.w, weight, p.conv, p.forward, workspace,
                                p.workspace_bytes, &kZero, p.y, out),
        "cudnnConvolutionForward");
}

void conv2d_backward_input(float* din, const float* dout, const float* weight, const ConvGeom& g,
                           float* workspace, bool accumulate) {
  const Plan& p = plan_for(g);
  check(cudnnConvolutionBackwardData(handle(), &kOne, p.w, weight, p.y, dout, p.conv, p.backward_data, workspace,
                                     p.workspace_bytes, accumulate ? &kOne : &kZero, p.x, din),
        "cudnnConvolutionBackwardData");
}

void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const ConvGeom& g,
                            float* workspace, bool accumulate) {
  const Plan& p = plan_for(g);
  check(cudnnConvolutionBackwardFilter(handle(), &kOne, p.x, in, p.y, dout, p.conv, p.backward_filter, workspace,
                                       p.workspace_bytes, accumulate ? &kOne : &kZero, p.w, dweight),
        "cudnnConvolutionBackwardFilter");
}

}  // namespace cfgan::cuda::vendor
