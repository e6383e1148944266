// Necessity and sufficiency of an attribute X for a binary decision O, from counterfactual
// pairs (the contrastive Monte-Carlo estimator) or from an observational table (LEWIS,
// Galhotra et al. 2021). With x = X on (+1), x' = X off, o = O positive:
//   NEC   = P(o'_{X<-x'} | X = x,  O = o)
//   SUF   = P(o_{X<-x}   | X = x', O = o')
//   NESUF = P(o_{X<-x}, o'_{X<-x'})
// Both are plain functions over plain rows, so tests can hand them tables whose scores are known.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/world/scores.h"

namespace cfgan {

// One unit seen through its counterfactual pair for attribute X: X's factual value, the factual
// decision, and the decision once X is set to the opposite value.
struct ContrastiveUnit {
  bool x = false, o = false, o_flipped = false;
};

// The counterfactual of the value a unit already has is the unit itself, so one flip per unit
// gives both potential outcomes: o_{X<-x} and o_{X<-x'} are (o, o_flipped) when X = x, and
// (o_flipped, o) when X = x'. Proportions with 95% Wilson intervals; an empty condition (no
// unit with X = x and O = o, say) leaves that score NaN.
CausalScores contrastive_scores(const std::string& attribute, const std::vector<ContrastiveUnit>& units);

// Rows of binary attributes (+1 / -1, `width` per row) and the decision of each row.
struct ObservationalTable {
  int64_t rows = 0, width = 0;
  std::vector<int8_t> attributes;  // (rows, width), row-major
  std::vector<uint8_t> decision;   // 1 = o
};

struct LewisScores {
  std::string attribute;
  double nec = 0, suf = 0, nesuf = 0;              // clipped to [0, 1]; NaN when a denominator is empty
  double nec_raw = 0, suf_raw = 0, nesuf_raw = 0;  // before clipping: below 0 where O is not monotone in X
  int64_t strata = 0, strata_dropped = 0;          // strata of the adjustment set seen / dropped (X constant there)
  int64_t rows_used = 0;
};

// LEWIS's scores of column `x` under monotonicity (o_{X<-x'} = o implies o_{X<-x} = o), with the
// back-door adjustment set `adjustment` (column indices; empty: none):
//   P(o_{X<-v}) = sum_c P(c) P(o | X = v, c)
//   NEC = (P(o) - P(o_{X<-x'})) / P(x, o),  SUF = (P(o_{X<-x}) - P(o)) / P(x', o'),
//   NESUF = P(o_{X<-x}) - P(o_{X<-x'}).
// A stratum c in which X takes only one value says nothing about the other (positivity fails
// there); its rows are dropped and every probability is taken over the strata that remain.
LewisScores lewis_scores(const ObservationalTable& table, int x, const std::vector<int>& adjustment,
                         const std::string& attribute);

}  // namespace cfgan
