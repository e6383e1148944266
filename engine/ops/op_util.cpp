#include "engine/ops/op_util.h"

namespace cfgan {

void check_same_device(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> tensors) {
  const std::pair<const char*, const Tensor*>* first = nullptr;
  for (const auto& entry : tensors) {
    if (!entry.second->defined()) continue;
    if (!first) {
      first = &entry;
      continue;
    }
    CFGAN_CHECK(entry.second->device() == first->second->device(), op, ": ", first->first, " is on ",
                device_name(first->second->device()), " but ", entry.first, " is on ",
                device_name(entry.second->device()), "; move them to one device with .to()");
  }
}

void accumulate(const Tensor& dst, const Tensor& src, float alpha) {
  kern(dst).axpy(dst.data(), alpha, src.data(), dst.numel());
}

void write_or_accumulate(const GradTarget& dst, const Tensor& src) {
  if (dst.fresh) {
    kern(dst.grad).copy(dst.grad.data(), src.data(), sizeof(float) * static_cast<size_t>(src.numel()));
  } else {
    accumulate(dst.grad, src);
  }
}

std::shared_ptr<Storage> upload_indices(const std::vector<int32_t>& indices, Device d) {
  auto storage = Storage::make(sizeof(int32_t) * std::max<size_t>(indices.size(), 1), d);
  kernels_for(d).copy_from_host(storage->data(), indices.data(), sizeof(int32_t) * indices.size());
  return storage;
}

int64_t extent_product(const Shape& s, int begin, int end) {
  int64_t n = 1;
  for (int i = begin; i < end; ++i) n *= s[i];
  return n;
}

}  // namespace cfgan
