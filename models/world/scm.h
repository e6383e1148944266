// The causal world's units: each is one row of exogenous noise U (one U per attribute, then
// the nuisance factors of render.h). Everything about a unit — its attributes, its image, its
// counterfactual under any intervention — is a pure function of (spec, U), which is what makes
// counterfactuals exact: abduction is reading the row back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/world/spec.h"

namespace cfgan {

// splitmix64's finalizer: the world's one hash, behind its exogenous streams and its pixel noise.
inline uint64_t world_hash(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct WorldUnits {
  int64_t count = 0, width = 0;  // width = attributes + kWorldNuisance
  std::vector<float> u;          // (count, width), row-major
  const float* row(int64_t i) const { return u.data() + i * width; }
};

// Names of the exogenous columns: "U_<attribute>" for each attribute, then the nuisance names.
std::vector<std::string> exogenous_columns(const WorldSpec& spec);

// `n` units from the model itself. Different `stream`s give disjoint, independent units for
// the same seed (the splits use one stream each).
WorldUnits sample_units(const WorldSpec& spec, int64_t n, uint64_t seed, uint64_t stream, int64_t first = 0);

// do(A_k = v) for some k: one entry per attribute, 0 where the mechanism decides.
using Intervention = std::vector<int8_t>;
enum class Effect {
  total,   // the intervened attributes' descendants follow through their mechanisms, with their own U
  direct,  // every attribute not intervened on keeps its factual value
};
Effect parse_effect(const std::string& text, const std::string& flag);
// "Red=-1,Large=1" -> an Intervention; errors name `flag`.
Intervention parse_intervention(const WorldSpec& spec, const std::string& text, const std::string& flag);

// The attributes (+1 / -1, spec order) of the unit with noise `u`; factual when `intervention`
// is empty or all zero.
void solve_attributes(const WorldSpec& spec, const float* u, const Intervention& intervention, Effect effect,
                      int8_t* out);

// A class label as a formula over attributes: literals ("Red", "!Red") joined by '&', terms
// joined by '|' ("Red&Large|!Round"): '&' binds tighter.
class LabelRule {
 public:
  static LabelRule parse(const WorldSpec& spec, const std::string& text);
  bool operator()(const int8_t* a) const;
  const std::string& text() const { return text_; }
  // Folder names of the two classes, sorted so that the negative class is class 0.
  std::string class_name(bool positive) const;

 private:
  std::string text_;
  std::vector<std::vector<std::pair<int, bool>>> terms_;  // (attribute, wanted +1) per literal
};

// The units of one split: "train" and "test" from the model; "biased" keeps units whose
// `shortcut` attribute agrees with the label (is +1 exactly on positives) with probability
// `strength` — selection, not causation: the units' mechanisms are untouched.
struct SplitOptions {
  std::string split = "train";
  std::string label = "Round";
  std::string shortcut = "Striped_Background";
  double strength = 0.95;
  uint64_t seed = 1;
};
WorldUnits draw_split(const WorldSpec& spec, int64_t n, const SplitOptions& options);

}  // namespace cfgan
