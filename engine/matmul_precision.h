// The precision of every matrix product the engine runs (matmul, linear, convolutions
// and their gradients): FP32 unless a program asks for TF32 or BF16 operands
// (kernels/precision.h), as the apps' --precision flag does. Process-wide, like the
// device choice: a product records the precision it ran in, so its backward pass matches.
#pragma once

#include <string>

#include "kernels/precision.h"

namespace cfgan {

void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();

// "fp32", "tf32" or "bf16"; `flag` names the option in errors.
MatmulPrecision parse_matmul_precision(const std::string& text, const std::string& flag = "--precision");

}  // namespace cfgan
