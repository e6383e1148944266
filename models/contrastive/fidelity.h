// How close the generator's distribution is to the real one, as the judge sees both: the
// frequency of each attribute and of each pair of attributes being on together. The
// contrastive and observational estimators run on generated units and the ground truth on the
// world's own, so these numbers say how much of an estimator's error the generator may own.
#pragma once

#include <cstdint>
#include <vector>

namespace cfgan {

struct AttributeStats {
  int64_t count = 0, k = 0;
  std::vector<double> frequency;  // (k): P(A_i = +1)
  std::vector<double> joint;      // (k, k): P(A_i = +1, A_j = +1); the diagonal is `frequency`
};

// `readings` (count, k) of +1 / -1.
AttributeStats attribute_stats(const std::vector<int8_t>& readings, int64_t k);

// The largest |generated - real| over the frequencies and over the off-diagonal joint entries.
struct FidelityGap {
  double frequency = 0, joint = 0;
};
FidelityGap fidelity_gap(const AttributeStats& generated, const AttributeStats& real);

}  // namespace cfgan
