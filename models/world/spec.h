// The causal world's structural causal model as data: which binary attributes exist, their
// parents, and each attribute's mechanism A_k = 1[U_k < p_k(parents)] as a probability table.
// Users edit it as scm.json; the renderer (render.h) gives every attribute its look.
//
//   {"image_size": 32, "pixel_noise": 0.02,
//    "attributes": [{"name": "Large", "parents": [], "p": [0.5]},
//                   {"name": "Red", "parents": ["Large"], "p": [0.25, 0.75]}, ...]}
//
// p has 2^(number of parents) entries: entry i is P(A = +1) when parent j is +1 exactly where
// bit j of i is set (parents in the order listed). An attribute the renderer knows but the
// spec leaves out is held at -1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cfgan {

struct WorldAttribute {
  std::string name;
  std::vector<int> parents;  // indices into WorldSpec::attributes
  std::vector<double> p;     // 2^parents.size() probabilities of +1
};

struct WorldSpec {
  int64_t image_size = 32;    // 32 or 64
  double pixel_noise = 0.02;  // std of the per-pixel Gaussian noise, in [0, 1] intensity units
  std::vector<WorldAttribute> attributes;
  std::vector<int> order;  // a topological order of `attributes` (parents first)

  // Six attributes with three causal edges: Large -> Red, Round -> Spotted, Red -> Light_Background.
  static WorldSpec defaults();
  // Parses and validates; errors start with `source` (a file name) and name the bad field.
  static WorldSpec from_json(const std::string& text, const std::string& source);
  static WorldSpec read(const std::string& path);
  std::string to_json() const;

  int64_t num_attributes() const { return static_cast<int64_t>(attributes.size()); }
  std::vector<std::string> names() const;
  int index_of(const std::string& name, const std::string& context) const;  // throws naming the known ones
  bool is_descendant(int k, int of) const;  // k is reachable from `of` along edges (k != of)
  // P(A_k = +1 | parents) for a full assignment `a` (values +1 / -1, one per attribute).
  double probability(int k, const int8_t* a) const;
};

}  // namespace cfgan
