#include "models/world/spec.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/error.h"
#include "models/world/render.h"

namespace cfgan {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Kahn's algorithm; a cycle leaves attributes unplaced and is reported with their names.
std::vector<int> topological_order(const std::vector<WorldAttribute>& attributes, const std::string& source) {
  const size_t n = attributes.size();
  std::vector<int> pending(n), order;
  for (size_t k = 0; k < n; ++k) pending[k] = static_cast<int>(attributes[k].parents.size());
  std::vector<bool> placed(n, false);
  while (order.size() < n) {
    bool progressed = false;
    for (size_t k = 0; k < n; ++k) {
      if (placed[k] || pending[k] > 0) continue;
      placed[k] = true, progressed = true;
      order.push_back(static_cast<int>(k));
      for (size_t c = 0; c < n; ++c)
        pending[c] -= static_cast<int>(std::count(attributes[c].parents.begin(), attributes[c].parents.end(), k));
    }
    if (!progressed) {
      std::vector<std::string> cyclic;
      for (size_t k = 0; k < n; ++k)
        if (!placed[k]) cyclic.push_back(attributes[k].name);
      fail(source, ": the graph has a cycle through ", joined(cyclic));
    }
  }
  return order;
}

}  // namespace

WorldSpec WorldSpec::defaults() {
  WorldSpec s;
  // Large (0) -> Red (2) -> Light_Background (5); Round (1) -> Spotted (3).
  s.attributes = {{"Large", {}, {0.5}},
                  {"Round", {}, {0.5}},
                  {"Red", {0}, {0.25, 0.75}},
                  {"Spotted", {1}, {0.3, 0.7}},
                  {"Striped_Background", {}, {0.5}},
                  {"Light_Background", {2}, {0.3, 0.7}}};
  s.order = topological_order(s.attributes, "defaults");
  return s;
}

WorldSpec WorldSpec::from_json(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": not valid JSON (", e.what(), ")");
  }
  CFGAN_CHECK(j.is_object(), source, ": expected a JSON object with \"attributes\"");
  for (const auto& [key, value] : j.items())
    CFGAN_CHECK(key == "image_size" || key == "pixel_noise" || key == "attributes", source, ": unknown field '", key,
                "' (expected image_size, pixel_noise, attributes)");
  WorldSpec s;
  if (j.contains("image_size")) {
    CFGAN_CHECK(j["image_size"].is_number_integer(), source, ": image_size must be 32 or 64");
    s.image_size = j["image_size"].get<int64_t>();
  }
  CFGAN_CHECK(s.image_size == 32 || s.image_size == 64, source, ": image_size must be 32 or 64, got ", s.image_size);
  if (j.contains("pixel_noise")) {
    CFGAN_CHECK(j["pixel_noise"].is_number(), source, ": pixel_noise must be a number");
    s.pixel_noise = j["pixel_noise"].get<double>();
  }
  CFGAN_CHECK(s.pixel_noise >= 0 && s.pixel_noise <= 0.5, source, ": pixel_noise must be in [0, 0.5], got ",
              s.pixel_noise);
  CFGAN_CHECK(j.contains("attributes") && j["attributes"].is_array() && !j["attributes"].empty(), source,
              ": \"attributes\" must be a non-empty array");
  const auto& list = j["attributes"];
  std::vector<std::string> names;
  for (const auto& a : list) {
    CFGAN_CHECK(a.is_object() && a.contains("name") && a["name"].is_string(), source,
                ": every attribute needs a \"name\" string, got ", a.dump());
    const std::string name = a["name"].get<std::string>();
    const auto& known = renderable_attributes();
    CFGAN_CHECK(std::find(known.begin(), known.end(), name) != known.end(), source, ": unknown attribute '", name,
                "' (the renderer draws ", joined(known), ")");
    CFGAN_CHECK(std::find(names.begin(), names.end(), name) == names.end(), source, ": attribute '", name,
                "' appears twice");
    names.push_back(name);
  }
  for (const auto& a : list) {
    WorldAttribute attr;
    attr.name = a["name"].get<std::string>();
    for (const auto& [key, value] : a.items())
      CFGAN_CHECK(key == "name" || key == "parents" || key == "p", source, ": attribute '", attr.name,
                  "': unknown field '", key, "' (expected name, parents, p)");
    if (a.contains("parents")) {
      CFGAN_CHECK(a["parents"].is_array(), source, ": attribute '", attr.name, "': parents must be an array of names");
      for (const auto& p : a["parents"]) {
        CFGAN_CHECK(p.is_string(), source, ": attribute '", attr.name, "': parents must be names, got ", p.dump());
        const std::string parent = p.get<std::string>();
        const auto it = std::find(names.begin(), names.end(), parent);
        CFGAN_CHECK(it != names.end(), source, ": attribute '", attr.name, "': unknown parent '", parent,
                    "' (attributes: ", joined(names), ")");
        const int index = static_cast<int>(it - names.begin());
        CFGAN_CHECK(std::find(attr.parents.begin(), attr.parents.end(), index) == attr.parents.end(), source,
                    ": attribute '", attr.name, "': parent '", parent, "' listed twice");
        attr.parents.push_back(index);
      }
    }
    CFGAN_CHECK(attr.parents.size() <= 10, source, ": attribute '", attr.name, "' has ", attr.parents.size(),
                " parents; at most 10 (p has 2^parents entries)");
    const size_t entries = size_t{1} << attr.parents.size();
    CFGAN_CHECK(a.contains("p") && a["p"].is_array() && a["p"].size() == entries, source, ": attribute '", attr.name,
                "': p must be an array of ", entries, " probabilities (2^", attr.parents.size(), " parents)");
    for (const auto& v : a["p"]) {
      CFGAN_CHECK(v.is_number() && v.get<double>() >= 0 && v.get<double>() <= 1, source, ": attribute '", attr.name,
                  "': probability ", v.dump(), " is outside [0, 1]");
      attr.p.push_back(v.get<double>());
    }
    s.attributes.push_back(std::move(attr));
  }
  s.order = topological_order(s.attributes, source);
  return s;
}

WorldSpec WorldSpec::read(const std::string& path) {
  std::ifstream in(path);
  CFGAN_CHECK(in, path, ": cannot open the causal-world spec");
  std::stringstream text;
  text << in.rdbuf();
  return from_json(text.str(), path);
}

std::string WorldSpec::to_json() const {
  nlohmann::ordered_json j;
  j["image_size"] = image_size;
  j["pixel_noise"] = pixel_noise;
  j["attributes"] = nlohmann::ordered_json::array();
  for (const WorldAttribute& a : attributes) {
    std::vector<std::string> parents;
    for (int p : a.parents) parents.push_back(attributes[p].name);
    j["attributes"].push_back({{"name", a.name}, {"parents", parents}, {"p", a.p}});
  }
  return j.dump(2);
}

std::vector<std::string> WorldSpec::names() const {
  std::vector<std::string> out;
  for (const WorldAttribute& a : attributes) out.push_back(a.name);
  return out;
}

int WorldSpec::index_of(const std::string& name, const std::string& context) const {
  for (size_t k = 0; k < attributes.size(); ++k)
    if (attributes[k].name == name) return static_cast<int>(k);
  fail(context, ": unknown attribute '", name, "' (the world has ", joined(names()), ")");
}

bool WorldSpec::is_descendant(int k, int of) const {
  for (int p : attributes[k].parents)
    if (p == of || is_descendant(p, of)) return true;
  return false;
}

double WorldSpec::probability(int k, const int8_t* a) const {
  const WorldAttribute& attr = attributes[k];
  size_t index = 0;
  for (size_t j = 0; j < attr.parents.size(); ++j) index |= size_t{a[attr.parents[j]] > 0} << j;
  return attr.p[index];
}

}  // namespace cfgan
