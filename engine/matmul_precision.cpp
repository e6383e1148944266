#include "engine/matmul_precision.h"

#include <atomic>

#include "engine/error.h"

namespace cfgan {
namespace {

std::atomic<MatmulPrecision> g_precision{MatmulPrecision::fp32};

}  // namespace

void set_matmul_precision(MatmulPrecision p) { g_precision.store(p, std::memory_order_relaxed); }

MatmulPrecision matmul_precision() { return g_precision.load(std::memory_order_relaxed); }

MatmulPrecision parse_matmul_precision(const std::string& text, const std::string& flag) {
  for (MatmulPrecision p : {MatmulPrecision::fp32, MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    if (text == precision_name(p)) return p;
  }
  fail(flag, ": expected fp32, tf32 or bf16, got '", text, "'");
}

}  // namespace cfgan
