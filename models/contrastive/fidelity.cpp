#include "models/contrastive/fidelity.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace cfgan {

AttributeStats attribute_stats(const std::vector<int8_t>& readings, int64_t k) {
  CFGAN_CHECK(k >= 1 && readings.size() % static_cast<size_t>(k) == 0, "attribute_stats: ", readings.size(),
              " readings are not rows of ", k);
  AttributeStats s;
  s.k = k;
  s.count = static_cast<int64_t>(readings.size()) / k;
  s.frequency.assign(static_cast<size_t>(k), 0.0);
  s.joint.assign(static_cast<size_t>(k * k), 0.0);
  for (int64_t r = 0; r < s.count; ++r) {
    const int8_t* a = readings.data() + r * k;
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) s.joint[i * k + j] += a[i] > 0 && a[j] > 0;
  }
  for (double& v : s.joint) v /= std::max<int64_t>(s.count, 1);
  for (int64_t i = 0; i < k; ++i) s.frequency[i] = s.joint[i * k + i];
  return s;
}

FidelityGap fidelity_gap(const AttributeStats& generated, const AttributeStats& real) {
  CFGAN_CHECK(generated.k == real.k, "fidelity_gap: ", generated.k, " attributes against ", real.k);
  FidelityGap gap;
  const int64_t k = real.k;
  for (int64_t i = 0; i < k; ++i) {
    gap.frequency = std::max(gap.frequency, std::fabs(generated.frequency[i] - real.frequency[i]));
    for (int64_t j = 0; j < k; ++j)
      if (i != j) gap.joint = std::max(gap.joint, std::fabs(generated.joint[i * k + j] - real.joint[i * k + j]));
  }
  return gap;
}

}  // namespace cfgan
