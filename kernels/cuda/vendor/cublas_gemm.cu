// GemmArgs on cuBLAS (cublasGemmStridedBatchedEx on FP32 matrices), the yardstick for
// gemm.cu: FP32 compute, or cuBLAS's TF32 / BF16 tensor-core compute types for
// args.precision, which round the FP32 operands inside the product as ours do.
#include <cublas_v2.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/cuda/vendor/vendor.h"

namespace cfgan::cuda::vendor {
namespace {

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuBLAS: ") + what + " failed: " + cublasGetStatusString(status));
  }
}

// One handle for the process, on the default stream, with cuBLAS's default math mode
// (FP32 FMA: TF32 only when asked for). Never destroyed: it lives as long as the
// CUDA context.
cublasHandle_t handle() {
  static const cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    check(cublasCreate(&created), "cublasCreate");
    return created;
  }();
  return h;
}

}  // namespace

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a row-major
// matrix read as column-major is its own transpose: so B goes first and M, N swap.
void gemm(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  // cuBLAS wants ld >= the rows of the column-major view (the row-major row length)
  // even where only one row exists and ld means nothing.
  const int64_t lda = std::max<int64_t>({g.lda, g.trans_a ? g.m : g.k, 1});
  const int64_t ldb = std::max<int64_t>({g.ldb, g.trans_b ? g.k : g.n, 1});
  const int64_t ldc = std::max<int64_t>(g.ldc, g.n);
  const cublasComputeType_t compute = g.precision == MatmulPrecision::tf32   ? CUBLAS_COMPUTE_32F_FAST_TF32
                                      : g.precision == MatmulPrecision::bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF
                                                                             : CUBLAS_COMPUTE_32F;
  check(cublasGemmStridedBatchedEx_64(handle(), g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                      g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.n, g.m, g.k, &g.alpha, g.b, CUDA_R_32F,
                                      ldb, g.stride_b, g.a, CUDA_R_32F, lda, g.stride_a, &g.beta, g.c, CUDA_R_32F, ldc,
                                      g.stride_c, g.batch, compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmStridedBatchedEx");
}

}  // namespace cfgan::cuda::vendor
