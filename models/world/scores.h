// Ground-truth causal scores of a classifier's decision in the causal world. For attribute X
// (x = +1, x' = -1) and a binary decision O (o = positive):
//   NEC   = P(O_{X<-x'} = o' | X = x,  O = o)     necessity
//   SUF   = P(O_{X<-x}  = o  | X = x', O = o')    sufficiency
//   NESUF = P(O_{X<-x} = o, O_{X<-x'} = o')       both
// estimated by Monte Carlo over units drawn from the model, each with its exact counterfactual
// images under do(X = +1) and do(X = -1), for the total or the direct effect.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/world/scm.h"

namespace cfgan {

// A proportion with its 95% Wilson interval; count 0 leaves the value NaN and the interval [0, 1].
struct Proportion {
  int64_t hits = 0, count = 0;
  double value = 0, lo = 0, hi = 1;
};
Proportion wilson(int64_t hits, int64_t count);

struct CausalScores {
  std::string attribute;
  Proportion nec, suf, nesuf;
};

// The decisions (1 = o) for `n` rendered images (n, 3, S, S) whose attributes are `attributes`
// (n, K). A classifier reads only the pixels; the attributes let tests use closed-form deciders.
using Decide = std::function<std::vector<uint8_t>(const uint8_t* pixels, const int8_t* attributes, int64_t n)>;

class Classifier;
// The decision of output `output` of a classifier (in eval mode): argmax == output for a
// softmax classifier, logit >= 0 (p >= 0.5) for an attribute head.
Decide decide_with_classifier(Classifier& model, int64_t output);

// Scores for each attribute index in `attributes`, over `units`, rendering and deciding
// `batch` images at a time.
std::vector<CausalScores> true_causal_scores(const WorldSpec& spec, const WorldUnits& units,
                                             const std::vector<int>& attributes, Effect effect, const Decide& decide,
                                             int64_t batch = 512);

}  // namespace cfgan
