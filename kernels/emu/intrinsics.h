// Device math intrinsics as exact host functions. The fast-math ones (__expf,
// __logf, __fdividef) are approximations on the GPU; here they are the exact
// libm results, so tests comparing emulated kernels with the CPU backend must use
// tolerances that also hold on the device. fmaxf, fminf, sqrtf, expf, ... are the
// global <math.h> functions, as in CUDA, and are deliberately not redeclared here
// (that would make unqualified calls ambiguous).
#pragma once

#include <math.h>

#include <atomic>
#include <bit>
#include <cmath>

namespace cfgan::emu {

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }

inline float __int_as_float(int i) { return std::bit_cast<float>(i); }
inline int __float_as_int(float f) { return std::bit_cast<int>(f); }
inline float __uint_as_float(unsigned u) { return std::bit_cast<float>(u); }
inline unsigned __float_as_uint(float f) { return std::bit_cast<unsigned>(f); }

// CUDA's global min / max overloads (crt/math_functions.hpp), one per type.
#define CFGAN_EMU_MIN_MAX(T)                    \
  inline T min(T a, T b) { return b < a ? b : a; } \
  inline T max(T a, T b) { return a < b ? b : a; }
CFGAN_EMU_MIN_MAX(int)
CFGAN_EMU_MIN_MAX(unsigned)
CFGAN_EMU_MIN_MAX(long)
CFGAN_EMU_MIN_MAX(unsigned long)
CFGAN_EMU_MIN_MAX(long long)
CFGAN_EMU_MIN_MAX(unsigned long long)
#undef CFGAN_EMU_MIN_MAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// Read-only cache load: an ordinary load on the host.
template <typename T>
T __ldg(const T* p) {
  return *p;
}

// Blocks run on several OS threads, so a fence must be a real one.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace cfgan::emu
