// CudaParity: every CUDA kernel against the CPU reference, on the emulated backend
// always and on the GPU when there is one (the device variant skips, saying why,
// elsewhere). Outputs live in guarded buffers: guard bands on both sides hold a
// sentinel that any out-of-bounds write destroys.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/device.h"
#include "kernels/cuda_backends.h"
#include "kernels/kernels.h"

namespace cfgan::testing {

enum class CudaTarget { emulated, device };

class CudaParity : public ::testing::TestWithParam<CudaTarget> {
 protected:
  void SetUp() override;
  const Kernels& cuda() const { return *cuda_; }
  static const Kernels& cpu() { return cpu_kernels(); }

 private:
  const Kernels* cuda_ = nullptr;
};

// Where a kernel must write every element and read none: a stale read or a missed write
// shows as NaN (expect_close passes NaN only where the CPU has NaN too).
inline std::vector<float> nan_filled(int64_t n) {
  return std::vector<float>(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
}

// n elements on a backend with kGuard sentinel elements on each side.
template <typename T>
class GuardedBuffer {
 public:
  static constexpr int64_t kGuard = 64;

  GuardedBuffer(const Kernels& k, const std::vector<T>& values) : k_(k), n_(static_cast<int64_t>(values.size())) {
    std::vector<T> staged(static_cast<size_t>(n_ + 2 * kGuard));
    for (int64_t i = 0; i < kGuard; ++i) staged[i] = staged[n_ + kGuard + i] = sentinel();
    std::copy(values.begin(), values.end(), staged.begin() + kGuard);
    base_ = static_cast<T*>(k_.alloc(sizeof(T) * staged.size()));
    k_.copy_from_host(base_, staged.data(), sizeof(T) * staged.size());
  }
  GuardedBuffer(const Kernels& k, int64_t n, T value)
      : GuardedBuffer(k, std::vector<T>(static_cast<size_t>(n), value)) {}
  ~GuardedBuffer() { k_.release(base_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  T* data() { return base_ + kGuard; }
  // The n elements; fails the test when a guard element changed.
  std::vector<T> read(const std::string& what) const {
    std::vector<T> staged(static_cast<size_t>(n_ + 2 * kGuard));
    k_.copy_to_host(staged.data(), base_, sizeof(T) * staged.size());
    const T s = sentinel();
    for (int64_t i = 0; i < kGuard; ++i) {
      EXPECT_EQ(std::memcmp(&staged[i], &s, sizeof(T)), 0) << what << ": write before the buffer (guard " << i << ")";
      EXPECT_EQ(std::memcmp(&staged[n_ + kGuard + i], &s, sizeof(T)), 0)
          << what << ": write after the buffer (guard " << i << ")";
    }
    return std::vector<T>(staged.begin() + kGuard, staged.end() - kGuard);
  }

 private:
  static T sentinel() {
    T value;
    const uint32_t bits = 0x7fc0dead;  // a quiet NaN as a float
    std::memcpy(&value, &bits, sizeof(T) < 4 ? sizeof(T) : 4);
    return value;
  }
  const Kernels& k_;
  int64_t n_;
  T* base_ = nullptr;
};

// A kernel's workspace of `bytes` on a backend, filled with garbage (a kernel must not rely
// on what it holds) and guarded: check() fails the test on a write outside it.
class Workspace {
 public:
  Workspace(const Kernels& k, int64_t bytes) : buf_(k, (bytes + 3) / 4, 1e30f) {}
  void* data() { return buf_.data(); }
  void check(const std::string& what) const { buf_.read(what); }

 private:
  GuardedBuffer<float> buf_;
};

// Elementwise |cuda - cpu| <= atol + rtol * |cpu|, NaNs only where the CPU has them;
// reports the worst element.
void expect_close(const std::vector<float>& cuda, const std::vector<float>& cpu, float atol, float rtol,
                  const std::string& what);

// Values in [lo, hi) from a fixed seed; integers in [lo, hi] when `integers`
// (sums of small integers are exact in fp32, whatever the order).
std::vector<float> random_values(int64_t n, float lo, float hi, uint64_t seed, bool integers = false);

// Serves Device::cuda from the backend under test for one scope, whatever happens in it,
// so that whole models run through the engine on it.
struct UseCudaKernels {
  explicit UseCudaKernels(const Kernels& k) { use_cuda_kernels(&k); }
  ~UseCudaKernels() { use_cuda_kernels(nullptr); }
};

}  // namespace cfgan::testing
