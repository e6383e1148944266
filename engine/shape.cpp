#include "engine/shape.h"

#include "engine/error.h"

namespace cfgan {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[i];
  return n;
}

void Shape::push_back(int64_t extent) {
  CFGAN_CHECK(ndim_ < kMaxDims, "shape ", str(), ": at most ", kMaxDims, " dimensions are supported");
  CFGAN_CHECK(extent >= 0, "shape: extent ", extent, " is negative");
  dims_[ndim_++] = extent;
}

bool Shape::operator==(const Shape& other) const {
  if (ndim_ != other.ndim_) return false;
  for (int i = 0; i < ndim_; ++i) {
    if (dims_[i] != other.dims_[i]) return false;
  }
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < ndim_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
  return s + "]";
}

Shape Shape::strides() const {
  Shape s = *this;
  int64_t step = 1;
  for (int i = ndim_ - 1; i >= 0; --i) {
    s.dims_[i] = step;
    step *= dims_[i];
  }
  return s;
}

int normalize_dim(int dim, int ndim, const char* op) {
  CFGAN_CHECK(dim >= -ndim && dim < ndim, op, ": dim ", dim, " is out of range for a tensor of rank ", ndim);
  return dim < 0 ? dim + ndim : dim;
}

}  // namespace cfgan
