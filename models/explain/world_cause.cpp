#include "models/explain/world_cause.h"

#include <filesystem>

#include "engine/error.h"
#include "models/explain/search.h"
#include "models/world/render.h"

namespace cfgan {

std::vector<CauseMask> shortcut_cause_masks(const WorldFolder& world, const std::string& shortcut,
                                            const std::vector<int64_t>& units, const std::vector<bool>& positive,
                                            Classifier& classifier, const std::vector<int32_t>& true_classes) {
  const WorldSpec& spec = world.spec;
  const int k = spec.index_of(shortcut, "--shortcut");
  const int64_t n = static_cast<int64_t>(units.size()), size = spec.image_size, pixels = size * size;
  CFGAN_CHECK(static_cast<int64_t>(positive.size()) == n && static_cast<int64_t>(true_classes.size()) == n,
              "cause masks: ", n, " units with ", positive.size(), " classes and ", true_classes.size(), " labels");
  const int64_t attributes = static_cast<int64_t>(spec.attributes.size());
  std::vector<uint8_t> factual(static_cast<size_t>(3 * pixels)), counterfactual(factual.size());
  std::vector<int8_t> a(static_cast<size_t>(attributes));
  std::vector<CauseMask> out(static_cast<size_t>(n));
  std::vector<uint8_t> all_counterfactuals;
  for (int64_t i = 0; i < n; ++i) {
    CFGAN_CHECK(units[i] >= 0 && units[i] < world.units.count, "cause masks: unit ", units[i], " is not in ", world.dir,
                " (", world.units.count, " units)");
    Intervention shortcut_set(static_cast<size_t>(attributes), 0);
    shortcut_set[k] = positive[i] ? 1 : -1;
    render_units(spec, world.units, units[i], 1, nullptr, Effect::direct, factual.data(), a.data());
    render_units(
        spec, world.units, units[i], 1, [&](int64_t) { return shortcut_set; }, Effect::direct, counterfactual.data(),
        a.data());
    out[i].pixels.assign(static_cast<size_t>(pixels), 0);
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t p = 0; p < pixels; ++p)
        out[i].pixels[p] |= factual[c * pixels + p] != counterfactual[c * pixels + p];
    }
    all_counterfactuals.insert(all_counterfactuals.end(), counterfactual.begin(), counterfactual.end());
  }
  if (n == 0) return out;
  const std::vector<std::vector<float>> p =
      class_probabilities(classifier, pixels_to_tensor(all_counterfactuals.data(), n, 3, size, size));
  for (int64_t i = 0; i < n; ++i) {
    out[i].usable = std::max_element(p[i].begin(), p[i].end()) - p[i].begin() == true_classes[i];
  }
  return out;
}

int64_t world_unit_of(const std::string& file_name) {
  const std::string stem = std::filesystem::path(file_name).stem().string();
  try {
    size_t used = 0;
    const long long number = std::stoll(stem, &used);
    if (used == stem.size() && number >= 1) return number - 1;
  } catch (const std::exception&) {
  }
  fail("'", file_name, "' is not a causal-world image name (a unit number such as 000001.png)");
}

}  // namespace cfgan
