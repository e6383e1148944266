// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
// a counter-based generator, so element i of a random tensor is a pure function of
// (seed, offset, i) and the CPU and CUDA backends produce the same stream.
//
// Stream layout: block b = offset + i / 4 is the 128-bit counter (b, 0); element i uses
// word i % 4. Normals pair words (0,1) and (2,3) through Box-Muller.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CFGAN_HOST_DEVICE __host__ __device__
#else
#define CFGAN_HOST_DEVICE
#endif

namespace cfgan {

struct Philox4 {
  uint32_t v[4];
};

CFGAN_HOST_DEVICE inline Philox4 philox4x32_10(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// [0, 1) with 24 random bits: exactly representable in float32.
CFGAN_HOST_DEVICE inline float philox_unit(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }

// (0, 1]: safe for log() in Box-Muller.
CFGAN_HOST_DEVICE inline float philox_unit_open0(uint32_t x) {
  return static_cast<float>((x >> 8) + 1) * (1.0f / 16777216.0f);
}

}  // namespace cfgan
