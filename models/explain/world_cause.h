// The planted cause of a biased classifier's mistakes on the causal world, as pixels. A
// classifier trained where a shortcut attribute agrees with the label errs where they disagree;
// for such an image, the exact counterfactual under do(shortcut := the value it has on the true
// class in the biased data) changes exactly the pixels the shortcut paints. When the classifier
// gets that counterfactual right, those pixels are the true cause of the mistake: the mask a
// good explanation points at.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/classifier.h"
#include "models/world/world_dir.h"

namespace cfgan {

struct CauseMask {
  bool usable = false;          // the counterfactual is classified as the true class
  std::vector<uint8_t> pixels;  // (S*S): 1 where the counterfactual differs from the image, any channel
};

// For unit `units[i]` of `world` with true class `positive[i]` (the label rule holds), the mask
// of do(shortcut := +1 if positive else -1), the attribute's own effect alone (the direct effect).
// `classifier` reads the counterfactual; `true_classes[i]` is the class index it must say.
std::vector<CauseMask> shortcut_cause_masks(const WorldFolder& world, const std::string& shortcut,
                                            const std::vector<int64_t>& units, const std::vector<bool>& positive,
                                            Classifier& classifier, const std::vector<int32_t>& true_classes);

// The unit a world image belongs to, from its file name (world_file_name: unit i is "<i+1>.png",
// zero-padded); errors name the file.
int64_t world_unit_of(const std::string& file_name);

}  // namespace cfgan
