// Helpers shared by the op implementations (not part of the public API).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/tensor.h"

namespace cfgan {

inline const Kernels& kern(const Tensor& t) { return kernels_for(t.device()); }

// All defined tensors must share a device: "conv2d: input is on cpu but weight is on cuda".
void check_same_device(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> tensors);

// dst += alpha * src, elementwise over equal element counts.
void accumulate(const Tensor& dst, const Tensor& src, float alpha = 1.0f);
// dst.grad = src where dst is fresh, += src otherwise.
void write_or_accumulate(const GradTarget& dst, const Tensor& src);

// Index lists live on the host; kernels read them from the device.
std::shared_ptr<Storage> upload_indices(const std::vector<int32_t>& indices, Device d);
inline const int32_t* ints(const std::shared_ptr<Storage>& s) { return static_cast<const int32_t*>(s->data()); }
inline int32_t* ints_mut(const std::shared_ptr<Storage>& s) { return static_cast<int32_t*>(s->data()); }

// Product of extents in [begin, end).
int64_t extent_product(const Shape& s, int begin, int end);

// Scratch memory of at least `bytes` on `d` for a kernel's workspace, from the caching
// allocator (so a repeating step allocates nothing new); alive while the tensor is.
// Undefined when `bytes` is 0, as it always is on the CPU: nothing is allocated then.
inline Tensor scratch(int64_t bytes, Device d) {
  return bytes > 0 ? Tensor::empty(Shape{(bytes + 3) / 4}, d) : Tensor();
}
// The workspace pointer a kernel takes: null for an undefined (empty) scratch tensor.
inline void* workspace_of(const Tensor& scratch) { return scratch.defined() ? scratch.data() : nullptr; }

// sum / mean over dims and permute, taking the dims as a span: the backward passes call
// these with fixed arrays, so a recorded backward allocates no heap memory.
Tensor reduce_dims(const char* name, const Tensor& x, std::span<const int> dims, bool keepdim, bool average);
Tensor permute_dims(const Tensor& x, std::span<const int> dims);

// A tensor viewed as (outer, r, inner) around one dim: how reductions and softmax see it.
struct Split {
  int64_t outer, r, inner;
};
inline Split split_at(const Shape& s, int dim) {
  return {extent_product(s, 0, dim), s[dim], extent_product(s, dim + 1, s.ndim())};
}

}  // namespace cfgan
