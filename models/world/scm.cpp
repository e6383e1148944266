#include "models/world/scm.h"

#include <sstream>

#include "engine/error.h"
#include "models/world/render.h"

namespace cfgan {
namespace {

// 24 random bits of (seed, stream, unit, column): every U is a float with an exact value.
uint32_t bits24(uint64_t seed, uint64_t stream, int64_t unit, int64_t column) {
  const uint64_t h =
      world_hash(world_hash(world_hash(seed) ^ stream) ^ static_cast<uint64_t>(unit)) ^ static_cast<uint64_t>(column);
  return static_cast<uint32_t>(world_hash(h) >> 40);
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.emplace_back();
  return parts;
}

}  // namespace

std::vector<std::string> exogenous_columns(const WorldSpec& spec) {
  std::vector<std::string> names;
  for (const WorldAttribute& a : spec.attributes) names.push_back("U_" + a.name);
  for (const char* n : kWorldNuisanceNames) names.emplace_back(n);
  return names;
}

WorldUnits sample_units(const WorldSpec& spec, int64_t n, uint64_t seed, uint64_t stream, int64_t first) {
  WorldUnits units;
  units.count = n;
  units.width = spec.num_attributes() + kWorldNuisance;
  units.u.resize(static_cast<size_t>(n * units.width));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < units.width; ++c) {
      const uint32_t b = bits24(seed, stream, first + i, c);
      // The last column is the pixel-noise key, an integer; the rest are uniforms in [0, 1).
      units.u[i * units.width + c] = c == units.width - 1 ? static_cast<float>(b) : static_cast<float>(b) / 16777216.0f;
    }
  return units;
}

Effect parse_effect(const std::string& text, const std::string& flag) {
  if (text == "total") return Effect::total;
  if (text == "direct") return Effect::direct;
  fail(flag, ": expected total or direct, got '", text, "'");
}

Intervention parse_intervention(const WorldSpec& spec, const std::string& text, const std::string& flag) {
  Intervention out(spec.attributes.size(), 0);
  CFGAN_CHECK(!trimmed(text).empty(), flag, ": expected NAME=1 or NAME=-1 (comma-separated), got nothing");
  for (const std::string& item : split_on(text, ',')) {
    const size_t eq = item.find('=');
    CFGAN_CHECK(eq != std::string::npos, flag, ": expected NAME=1 or NAME=-1, got '", item, "'");
    const int k = spec.index_of(trimmed(item.substr(0, eq)), flag);
    const std::string value = trimmed(item.substr(eq + 1));
    CFGAN_CHECK(value == "1" || value == "+1" || value == "-1", flag, ": the value of ", spec.attributes[k].name,
                " must be 1 or -1, got '", value, "'");
    CFGAN_CHECK(out[k] == 0, flag, ": ", spec.attributes[k].name, " is set twice");
    out[k] = value == "-1" ? -1 : 1;
  }
  return out;
}

void solve_attributes(const WorldSpec& spec, const float* u, const Intervention& intervention, Effect effect,
                      int8_t* out) {
  const bool intervened = !intervention.empty();
  // The direct effect holds the factual values: solve the factual world first, then overwrite.
  const bool follow = !intervened || effect == Effect::total;
  for (int k : spec.order) {
    if (follow && intervened && intervention[k] != 0) {
      out[k] = intervention[k];
    } else {
      out[k] = u[k] < spec.probability(k, out) ? 1 : -1;
    }
  }
  if (!follow)
    for (size_t k = 0; k < intervention.size(); ++k)
      if (intervention[k] != 0) out[k] = intervention[k];
}

LabelRule LabelRule::parse(const WorldSpec& spec, const std::string& text) {
  LabelRule rule;
  rule.text_ = trimmed(text);
  CFGAN_CHECK(!rule.text_.empty(), "--label: expected an attribute or a formula like Red&Large, got nothing");
  for (const std::string& term : split_on(rule.text_, '|')) {
    std::vector<std::pair<int, bool>> literals;
    for (const std::string& raw : split_on(term, '&')) {
      std::string lit = trimmed(raw);
      const bool negated = !lit.empty() && lit[0] == '!';
      if (negated) lit = trimmed(lit.substr(1));
      CFGAN_CHECK(!lit.empty(), "--label '", text, "': an empty term (write e.g. Red&Large or Red|!Round)");
      literals.emplace_back(spec.index_of(lit, "--label"), !negated);
    }
    rule.terms_.push_back(std::move(literals));
  }
  return rule;
}

bool LabelRule::operator()(const int8_t* a) const {
  for (const auto& term : terms_) {
    bool all = true;
    for (const auto& [k, wanted] : term) all = all && ((a[k] > 0) == wanted);
    if (all) return true;
  }
  return false;
}

std::string LabelRule::class_name(bool positive) const {
  std::string name;
  for (char c : text_) {
    if (c == '&')
      name += "_and_";
    else if (c == '|')
      name += "_or_";
    else if (c == '!')
      name += "not_";
    else if (c != ' ')
      name += c;
  }
  return positive ? "1_" + name : "0_not_" + name;
}

WorldUnits draw_split(const WorldSpec& spec, int64_t n, const SplitOptions& options) {
  CFGAN_CHECK(n >= 1, "--n: must be >= 1, got ", n);
  if (options.split == "train") return sample_units(spec, n, options.seed, 1);
  if (options.split == "test") return sample_units(spec, n, options.seed, 2);
  CFGAN_CHECK(options.split == "biased", "--split: expected train, test or biased, got '", options.split, "'");
  CFGAN_CHECK(options.strength >= 0 && options.strength <= 1,
              "--shortcut-strength: expected a probability in [0, 1], got ", options.strength);
  const LabelRule label = LabelRule::parse(spec, options.label);
  const int shortcut = spec.index_of(options.shortcut, "--shortcut");
  // Each slot first decides whether its unit agrees with the label; then units are drawn from
  // the model (its own stream) until one of that kind comes up.
  WorldUnits out;
  out.count = n;
  out.width = spec.num_attributes() + kWorldNuisance;
  std::vector<int8_t> a(spec.attributes.size());
  int64_t next = 0;
  const int64_t limit = 1000 * n + 100000;
  for (int64_t i = 0; i < n; ++i) {
    const bool agree = static_cast<double>(bits24(options.seed, 4, i, 0)) / 16777216.0 < options.strength;
    for (;; ++next) {
      CFGAN_CHECK(next < limit, "--split biased: the model almost never makes units whose ", options.shortcut,
                  (agree ? " agrees" : " disagrees"), " with the label '", options.label, "'");
      const WorldUnits one = sample_units(spec, 1, options.seed, 3, next);
      solve_attributes(spec, one.row(0), {}, Effect::total, a.data());
      if (((a[shortcut] > 0) == label(a.data())) == agree) {
        out.u.insert(out.u.end(), one.u.begin(), one.u.end());
        ++next;
        break;
      }
    }
  }
  return out;
}

}  // namespace cfgan
