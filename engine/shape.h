// A tensor shape: up to kMaxDims extents, stored inline (no heap).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "kernels/kernels.h"

namespace cfgan {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  int64_t numel() const;
  const int64_t* begin() const { return dims_; }
  const int64_t* end() const { return dims_ + ndim_; }
  void push_back(int64_t extent);
  bool operator==(const Shape& other) const;
  std::string str() const;  // "[64, 1, 28, 28]"

  // Element strides of the contiguous layout.
  Shape strides() const;

 private:
  int64_t dims_[kMaxDims] = {};
  int ndim_ = 0;
};

// Maps a possibly negative dim into [0, ndim); `op` names the caller in the error.
int normalize_dim(int dim, int ndim, const char* op);

}  // namespace cfgan
