// A causal-world folder on disk, the form every app reads as --data:
//
//   DIR/<class>/<name>.png      the images; unit i (row i of every file below) is named
//                               world_file_name(i, N): "000001.png" for i = 0, zero-padded to
//                               at least six digits, unique within the folder
//   DIR/list_attr.txt           CelebA-format attributes, rows in unit order
//   DIR/exogenous.safetensors   "U": (N, attributes + nuisance) F32, columns named in its metadata
//   DIR/masks.safetensors       "masks": (N, 3, S, S) U8 (1 where the factor covers the pixel);
//                               metadata: the factor names and which factor each attribute paints
//   DIR/scm.json                the spec the units were drawn from
//   DIR/world.json              how the folder was made (split, label, shortcut, seed, intervention)
//   DIR/graph.png, preview.png  the causal graph; the first 64 images
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/world/scm.h"

namespace cfgan {

std::string world_file_name(int64_t index, int64_t count);

struct WorldFolder {
  std::string dir;
  WorldSpec spec;
  WorldUnits units;
  nlohmann::json about;  // world.json
  std::string label;     // the label rule's text
};

// Renders every unit (under `intervention`, when not empty, with `effect`) and writes the
// folder. `about` is stored as world.json with the intervention added. Prints progress.
void write_world(const std::string& dir, const WorldSpec& spec, const WorldUnits& units, const LabelRule& label,
                 nlohmann::json about, const Intervention& intervention = {}, Effect effect = Effect::total);

// The first `count` units as a strip of factual images above their counterfactuals under
// `intervention`, scaled x3 so 32-px images can be looked at.
void write_counterfactual_pairs(const std::string& path, const WorldSpec& spec, const WorldUnits& units,
                                const Intervention& intervention, Effect effect, int64_t count);

// Reads what write_world wrote (spec, units, world.json); errors name the file and what is wrong.
WorldFolder read_world(const std::string& dir);

}  // namespace cfgan
