// The causal world: spec parsing, mechanisms, exact counterfactuals, rendering and masks, and
// the Monte-Carlo ground-truth scores against closed forms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "models/world/render.h"
#include "models/world/scm.h"
#include "models/world/scores.h"
#include "models/world/spec.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::error_of;
using ::testing::HasSubstr;

namespace {

std::vector<int8_t> attributes_of(const WorldSpec& spec, const WorldUnits& units, int64_t i,
                                  const Intervention& intervention = {}, Effect effect = Effect::total) {
  std::vector<int8_t> a(spec.attributes.size());
  solve_attributes(spec, units.row(i), intervention, effect, a.data());
  return a;
}

struct Rendered {
  std::vector<uint8_t> pixels, masks;
};
Rendered render(const WorldSpec& spec, const WorldUnits& units, int64_t i, const std::vector<int8_t>& a) {
  const int64_t s = spec.image_size;
  Rendered r{std::vector<uint8_t>(3 * s * s), std::vector<uint8_t>(kWorldFactors * s * s)};
  render_world_image(s, spec.pixel_noise, look_of(spec, a.data()), units.row(i) + spec.num_attributes(),
                     r.pixels.data(), r.masks.data());
  return r;
}

}  // namespace

TEST(World, DefaultSpecRoundTripsThroughJson) {
  const WorldSpec d = WorldSpec::defaults();
  const WorldSpec back = WorldSpec::from_json(d.to_json(), "test");
  EXPECT_EQ(back.to_json(), d.to_json());
  EXPECT_EQ(back.names(), d.names());
  EXPECT_TRUE(d.is_descendant(d.index_of("Light_Background", "t"), d.index_of("Large", "t")));
  EXPECT_FALSE(d.is_descendant(d.index_of("Large", "t"), d.index_of("Red", "t")));
}

TEST(World, BadSpecsAreOneLineErrors) {
  const std::string base = R"({"attributes": [{"name": "Red", "parents": [], "p": [0.5]},
                                              {"name": "Large", "parents": ["Red"], "p": [0.2, 0.8]}]})";
  EXPECT_NO_THROW(WorldSpec::from_json(base, "scm.json"));
  EXPECT_THAT(error_of([] {
                WorldSpec::from_json(R"({"attributes": [{"name": "Red", "parents": ["Large"], "p": [0.5, 0.5]},
                                      {"name": "Large", "parents": ["Red"], "p": [0.2, 0.8]}]})",
                                     "scm.json");
              }),
              HasSubstr("scm.json: the graph has a cycle through Red, Large"));
  EXPECT_THAT(error_of([] {
                WorldSpec::from_json(R"({"attributes": [{"name": "Hat", "parents": [], "p": [0.5]}]})", "scm.json");
              }),
              HasSubstr("unknown attribute 'Hat'"));
  EXPECT_THAT(error_of([] {
                WorldSpec::from_json(R"({"attributes": [{"name": "Red", "parents": ["Big"], "p": [0.5, 0.5]}]})",
                                     "scm.json");
              }),
              HasSubstr("unknown parent 'Big'"));
  EXPECT_THAT(error_of([] {
                WorldSpec::from_json(R"({"attributes": [{"name": "Red", "parents": [], "p": [1.5]}]})", "scm.json");
              }),
              HasSubstr("probability 1.5 is outside [0, 1]"));
  EXPECT_THAT(error_of([] {
                WorldSpec::from_json(R"({"attributes": [{"name": "Red", "parents": [], "p": [0.1, 0.2]}]})",
                                     "scm.json");
              }),
              HasSubstr("p must be an array of 1 probabilities"));
  EXPECT_THAT(error_of([] { WorldSpec::from_json("{", "scm.json"); }), HasSubstr("scm.json: not valid JSON"));
  EXPECT_THAT(error_of([] { WorldSpec::from_json(R"({"image_size": 48, "attributes": []})", "scm.json"); }),
              HasSubstr("image_size must be 32 or 64"));
}

TEST(World, MechanismFrequenciesMatchTheSpec) {
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, 40000, 7, 1);
  const int large = spec.index_of("Large", "t"), red = spec.index_of("Red", "t");
  int64_t n_large = 0, red_given_large = 0, red_given_small = 0;
  for (int64_t i = 0; i < units.count; ++i) {
    const auto a = attributes_of(spec, units, i);
    n_large += a[large] > 0;
    (a[large] > 0 ? red_given_large : red_given_small) += a[red] > 0;
  }
  // Binomial standard errors are at most 0.0036 here; 0.015 is over four of them.
  EXPECT_NEAR(static_cast<double>(red_given_large) / static_cast<double>(n_large), 0.75, 0.015);
  EXPECT_NEAR(static_cast<double>(red_given_small) / static_cast<double>(units.count - n_large), 0.25, 0.015);
}

TEST(World, SameSeedSameUnitsAndImagesOtherStreamOtherUnits) {
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits a = sample_units(spec, 20, 3, 1), b = sample_units(spec, 20, 3, 1), c = sample_units(spec, 20, 3, 2);
  EXPECT_EQ(a.u, b.u);
  EXPECT_NE(a.u, c.u);
  const auto attrs = attributes_of(spec, a, 5);
  EXPECT_EQ(render(spec, a, 5, attrs).pixels, render(spec, b, 5, attrs).pixels);
  // A window of units is the same units wherever the window starts.
  const WorldUnits tail = sample_units(spec, 5, 3, 1, 15);
  EXPECT_EQ(std::vector<float>(a.u.begin() + 15 * a.width, a.u.end()), tail.u);
}

TEST(World, InterveningOnTheFactualValueReturnsTheFactualImage) {
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, 30, 11, 2);
  for (int64_t i = 0; i < units.count; ++i) {
    const auto factual = attributes_of(spec, units, i);
    for (int k = 0; k < spec.num_attributes(); ++k)
      for (Effect e : {Effect::total, Effect::direct}) {
        Intervention same(spec.attributes.size(), 0);
        same[k] = factual[k];
        const auto cf = attributes_of(spec, units, i, same, e);
        ASSERT_EQ(cf, factual);
        EXPECT_EQ(render(spec, units, i, cf).pixels, render(spec, units, i, factual).pixels);
      }
  }
}

TEST(World, DescendantsFollowTheChainOnlyInTheTotalEffect) {
  // A chain Large -> Red -> Light_Background with deterministic mechanisms: the child copies its parent.
  const WorldSpec spec = WorldSpec::from_json(R"({"attributes": [
      {"name": "Large", "parents": [], "p": [0.5]},
      {"name": "Red", "parents": ["Large"], "p": [0.0, 1.0]},
      {"name": "Light_Background", "parents": ["Red"], "p": [0.0, 1.0]},
      {"name": "Round", "parents": [], "p": [0.5]}]})",
                                              "chain");
  const WorldUnits units = sample_units(spec, 50, 5, 1);
  for (int64_t i = 0; i < units.count; ++i) {
    const auto f = attributes_of(spec, units, i);
    ASSERT_EQ(f[0], f[1]);
    ASSERT_EQ(f[1], f[2]);
    Intervention flip(4, 0);
    flip[0] = static_cast<int8_t>(-f[0]);
    const auto total = attributes_of(spec, units, i, flip, Effect::total);
    const auto direct = attributes_of(spec, units, i, flip, Effect::direct);
    EXPECT_EQ(total, (std::vector<int8_t>{flip[0], flip[0], flip[0], f[3]}));
    EXPECT_EQ(direct, (std::vector<int8_t>{flip[0], f[1], f[2], f[3]}));
    // An intervention in the middle of the chain leaves its ancestor alone.
    Intervention mid(4, 0);
    mid[1] = static_cast<int8_t>(-f[1]);
    EXPECT_EQ(attributes_of(spec, units, i, mid, Effect::total), (std::vector<int8_t>{f[0], mid[1], mid[1], f[3]}));
  }
}

TEST(World, AnInterventionChangesOnlyThePixelsOfTheFactorsItChanged) {
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, 40, 13, 2);
  const int64_t plane = spec.image_size * spec.image_size;
  int64_t changed_pixels = 0;
  for (int64_t i = 0; i < units.count; ++i) {
    const auto f = attributes_of(spec, units, i);
    const Rendered rf = render(spec, units, i, f);
    for (int k = 0; k < spec.num_attributes(); ++k) {
      Intervention flip(spec.attributes.size(), 0);
      flip[k] = static_cast<int8_t>(-f[k]);
      const auto cf = attributes_of(spec, units, i, flip, Effect::total);
      const Rendered rc = render(spec, units, i, cf);
      std::vector<bool> factors(kWorldFactors, false);
      for (int j = 0; j < spec.num_attributes(); ++j)
        if (cf[j] != f[j]) factors[factor_painted_by(spec.attributes[j].name)] = true;
      for (int64_t p = 0; p < plane; ++p) {
        bool allowed = false;
        for (int fa = 0; fa < kWorldFactors; ++fa)
          allowed = allowed || (factors[fa] && (rf.masks[fa * plane + p] || rc.masks[fa * plane + p]));
        for (int c = 0; c < 3; ++c) {
          const bool changed = rf.pixels[c * plane + p] != rc.pixels[c * plane + p];
          changed_pixels += changed;
          ASSERT_TRUE(allowed || !changed) << "unit " << i << " flip " << spec.attributes[k].name << " pixel " << p;
        }
      }
    }
  }
  EXPECT_GT(changed_pixels, 1000);  // the interventions do change images
}

TEST(World, MasksCoverTheirFactors) {
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, 20, 17, 1);
  const int64_t plane = spec.image_size * spec.image_size;
  for (int64_t i = 0; i < units.count; ++i) {
    auto a = attributes_of(spec, units, i);
    const Rendered r = render(spec, units, i, a);
    int64_t object = 0, mark = 0, background = 0, uncovered = 0;
    for (int64_t p = 0; p < plane; ++p) {
      object += r.masks[p], mark += r.masks[plane + p], background += r.masks[2 * plane + p];
      uncovered += !r.masks[p] && !r.masks[2 * plane + p];
      if (r.masks[plane + p]) {
        EXPECT_TRUE(r.masks[p]) << "the mark lies on the object";
      }
    }
    EXPECT_EQ(uncovered, 0);
    EXPECT_GT(object, 20);
    EXPECT_GT(background, plane / 2);
    EXPECT_EQ(mark > 0, a[spec.index_of("Spotted", "t")] > 0);
    // Large objects cover more pixels than small ones of the same unit.
    a[spec.index_of("Large", "t")] = 1;
    const Rendered big = render(spec, units, i, a);
    const int64_t large = std::count(big.masks.begin(), big.masks.begin() + plane, 1);
    a[spec.index_of("Large", "t")] = -1;
    const Rendered small = render(spec, units, i, a);
    EXPECT_GT(large, std::count(small.masks.begin(), small.masks.begin() + plane, 1) * 2);
  }
}

TEST(World, LabelRulesAndInterventionsParse) {
  const WorldSpec spec = WorldSpec::defaults();
  const LabelRule rule = LabelRule::parse(spec, "Red&Large|!Round");
  std::vector<int8_t> a(spec.attributes.size(), -1);
  EXPECT_TRUE(rule(a.data()));  // not round
  a[spec.index_of("Round", "t")] = 1;
  EXPECT_FALSE(rule(a.data()));
  a[spec.index_of("Red", "t")] = 1, a[spec.index_of("Large", "t")] = 1;
  EXPECT_TRUE(rule(a.data()));
  EXPECT_EQ(rule.class_name(true), "1_Red_and_Large_or_not_Round");
  EXPECT_EQ(rule.class_name(false), "0_not_Red_and_Large_or_not_Round");
  EXPECT_THAT(error_of([&] { LabelRule::parse(spec, "Red&&Large"); }), HasSubstr("an empty term"));
  EXPECT_THAT(error_of([&] { LabelRule::parse(spec, "Hat"); }), HasSubstr("--label: unknown attribute 'Hat'"));

  const Intervention i = parse_intervention(spec, "Red=-1, Large=1", "--do");
  EXPECT_EQ(i[spec.index_of("Red", "t")], -1);
  EXPECT_EQ(i[spec.index_of("Large", "t")], 1);
  EXPECT_THAT(error_of([&] { parse_intervention(spec, "Red=0", "--do"); }), HasSubstr("must be 1 or -1"));
  EXPECT_THAT(error_of([&] { parse_intervention(spec, "Red", "--do"); }), HasSubstr("expected NAME=1 or NAME=-1"));
  EXPECT_THAT(error_of([&] { parse_intervention(spec, "Red=1,Red=-1", "--do"); }), HasSubstr("set twice"));
}

TEST(World, BiasedSplitAgreesWithTheShortcutAtTheRequestedRate) {
  const WorldSpec spec = WorldSpec::defaults();
  SplitOptions o;
  o.split = "biased";
  o.strength = 0.9;
  const WorldUnits units = draw_split(spec, 4000, o);
  const LabelRule label = LabelRule::parse(spec, o.label);
  const int shortcut = spec.index_of(o.shortcut, "t");
  int64_t agree = 0;
  for (int64_t i = 0; i < units.count; ++i) {
    const auto a = attributes_of(spec, units, i);
    agree += (a[shortcut] > 0) == label(a.data());
  }
  // Standard error sqrt(0.9 * 0.1 / 4000) = 0.0047; 0.02 is over four of them.
  EXPECT_NEAR(static_cast<double>(agree) / 4000.0, 0.9, 0.02);
  // The train and test splits draw different units.
  o.split = "train";
  const WorldUnits train = draw_split(spec, 10, o);
  o.split = "test";
  EXPECT_NE(train.u, draw_split(spec, 10, o).u);
}

TEST(World, WilsonIntervalMatchesTheFormula) {
  const Proportion p = wilson(30, 100);
  // Closed form for 30/100 at z = 1.96: (0.2189, 0.3958).
  EXPECT_NEAR(p.lo, 0.2189, 1e-3);
  EXPECT_NEAR(p.hi, 0.3958, 1e-3);
  EXPECT_TRUE(std::isnan(wilson(0, 0).value));
  EXPECT_EQ(wilson(0, 10).lo, 0.0);
}

namespace {

// A decider that reads the object's colour from the pixels: red where many pixels have R far above B.
std::vector<uint8_t> reads_red(const uint8_t* pixels, const int8_t*, int64_t n, int64_t size) {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  const int64_t plane = size * size;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* img = pixels + i * 3 * plane;
    int64_t reddish = 0;
    for (int64_t p = 0; p < plane; ++p) reddish += img[p] > img[2 * plane + p] + 100;
    out[i] = reddish > 10;
  }
  return out;
}

const CausalScores& score_of(const std::vector<CausalScores>& s, const std::string& name) {
  for (const auto& c : s)
    if (c.attribute == name) return c;
  throw std::runtime_error("no score for " + name);
}

}  // namespace

TEST(World, TrueScoresOfAColourReaderAreOneForRedAndZeroElsewhere) {
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, 600, 21, 5);
  std::vector<int> all(spec.attributes.size());
  std::iota(all.begin(), all.end(), 0);
  const Decide decide = [&](const uint8_t* px, const int8_t* a, int64_t n) { return reads_red(px, a, n, 32); };
  for (Effect e : {Effect::total, Effect::direct}) {
    const auto scores = true_causal_scores(spec, units, all, e, decide, 128);
    const CausalScores& red = score_of(scores, "Red");
    EXPECT_EQ(red.nec.value, 1.0);
    EXPECT_EQ(red.suf.value, 1.0);
    EXPECT_EQ(red.nesuf.value, 1.0);
    for (const char* other : {"Round", "Spotted", "Striped_Background", "Light_Background"}) {
      EXPECT_EQ(score_of(scores, other).nec.value, 0.0) << other;
      EXPECT_EQ(score_of(scores, other).suf.value, 0.0) << other;
    }
    // Large causes Red, so its total effect on a colour reader is not zero; its direct effect is.
    const CausalScores& large = score_of(scores, "Large");
    if (e == Effect::direct) {
      EXPECT_EQ(large.nesuf.value, 0.0);
    } else {
      EXPECT_GT(large.nesuf.value, 0.3);
    }
  }
}

TEST(World, MonteCarloScoresMatchClosedFormsForRedAndRound) {
  // O = Red AND Round, read from the attributes. With the default spec (Large -> Red with
  // p = 0.25 / 0.75, Round a root with p = 0.5), exact counterfactuals give:
  //   X = Red:   NEC = 1, SUF = P(Round | Red = -1, O = 0) = P(Round) = 0.5, NESUF = P(Round) = 0.5
  //   X = Large (total): NEC = P(U_Red >= 0.25 | U_Red < 0.75) = 2/3,
  //              SUF = P(Red_{L<-1} & Round | L = -1, O = 0) = P(0.25 <= U_Red < 0.75, Round) / P(O = 0 | L = -1)
  //                  = (0.5 * 0.5) / (1 - 0.25 * 0.5) = 2/7,
  //              NESUF = P(0.25 <= U_Red < 0.75) * P(Round) = 0.25
  //   X = Large (direct): all zero.   X = Spotted: all zero (it is Round's child, not its parent).
  const WorldSpec spec = WorldSpec::defaults();
  const WorldUnits units = sample_units(spec, 6000, 23, 5);
  const int red = spec.index_of("Red", "t"), round = spec.index_of("Round", "t");
  const Decide decide = [&](const uint8_t*, const int8_t* a, int64_t n) {
    std::vector<uint8_t> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      out[i] = a[i * spec.num_attributes() + red] > 0 && a[i * spec.num_attributes() + round] > 0;
    return out;
  };
  const std::vector<int> scored{red, spec.index_of("Large", "t"), spec.index_of("Spotted", "t")};
  const auto total = true_causal_scores(spec, units, scored, Effect::total, decide);
  // The estimate must lie within 4 binomial standard errors of the truth: a 95% interval misses
  // one time in twenty per check, 4 sigma one time in 16,000, and a wrong formula or a wrong
  // counterfactual misses by far more (the smallest gap between the truths here is 0.17).
  auto inside = [](const Proportion& p, double truth) {
    return std::abs(p.value - truth) <= 4 * std::sqrt(truth * (1 - truth) / static_cast<double>(p.count));
  };
  EXPECT_EQ(total[0].nec.value, 1.0);
  EXPECT_TRUE(inside(total[0].suf, 0.5)) << total[0].suf.value;
  EXPECT_TRUE(inside(total[0].nesuf, 0.5));
  EXPECT_TRUE(inside(total[1].nec, 2.0 / 3)) << total[1].nec.value;
  EXPECT_TRUE(inside(total[1].suf, 2.0 / 7)) << total[1].suf.value;
  EXPECT_TRUE(inside(total[1].nesuf, 0.25)) << total[1].nesuf.value;
  EXPECT_EQ(total[2].nesuf.value, 0.0);
  const auto direct = true_causal_scores(spec, units, scored, Effect::direct, decide);
  EXPECT_EQ(direct[1].nec.value, 0.0);
  EXPECT_EQ(direct[1].suf.value, 0.0);
  EXPECT_TRUE(inside(direct[0].suf, 0.5));
}
