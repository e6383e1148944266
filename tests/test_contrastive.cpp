// Contrastive counterfactuals (models/contrastive/): the shift predictor's shapes, dropout and
// target draws, one training step against PyTorch, and both score estimators on pairs and
// tables whose scores are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/autograd.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "models/contrastive/estimators.h"
#include "models/contrastive/fidelity.h"
#include "models/contrastive/frozen_models.h"
#include "models/contrastive/generated_units.h"
#include "models/contrastive/shift_trainer.h"
#include "tests/golden_util.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan::testing::expect_close;
using cfgan::testing::load_golden;
using cfgan_test::error_of;

namespace {

ShiftSpec spec_of(int64_t d, std::vector<std::string> targets, int64_t hidden = 1024) {
  ShiftSpec s;
  s.latent_dim = d;
  s.targets = std::move(targets);
  s.hidden = hidden;
  return s;
}

// `count` copies of one pair.
void add(std::vector<ContrastiveUnit>& units, int count, bool x, bool o, bool o_flipped) {
  for (int i = 0; i < count; ++i) units.push_back({x, o, o_flipped});
}

// `count` rows (attributes, decision) of a table.
void add(ObservationalTable& table, int count, std::vector<int8_t> attributes, bool o) {
  table.width = static_cast<int64_t>(attributes.size());
  for (int i = 0; i < count; ++i) {
    table.attributes.insert(table.attributes.end(), attributes.begin(), attributes.end());
    table.decision.push_back(o);
    table.rows++;
  }
}

}  // namespace

TEST(ShiftPredictor, HasThePapersLayersAndShapes) {
  Generator noise(1);
  ShiftPredictor s(spec_of(100, {"Large", "Round", "Red", "Spotted", "Striped_Background", "Light_Background"}), noise);
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : s.named_parameters()) shapes[name] = t.shape();
  const std::map<std::string, Shape> expected{{"net.0.weight", Shape{1024, 106}},  {"net.0.bias", Shape{1024}},
                                              {"net.3.weight", Shape{1024, 1024}}, {"net.3.bias", Shape{1024}},
                                              {"net.6.weight", Shape{100, 1024}},  {"net.6.bias", Shape{100}}};
  EXPECT_EQ(shapes, expected);
  Generator g(2);
  const Tensor dw = s.shift(Tensor::randn({8, 100}, g), Tensor::zeros({8, 6}));
  EXPECT_EQ(dw.shape(), (Shape{8, 100}));
  EXPECT_NE(error_of([&] {
              s.shift(Tensor::zeros({8, 99}), Tensor::zeros({8, 6}));
            }).find("(N, 100)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              s.shift(Tensor::zeros({8, 100}), Tensor::zeros({8, 5}));
            }).find("must be (8, 6)"),
            std::string::npos);
}

TEST(ShiftPredictor, DropoutActsInTrainingOnly) {
  Generator noise(3), g(4);
  ShiftPredictor s(spec_of(4, {"A", "B"}, 64), noise);
  const Tensor w = Tensor::randn({5, 4}, g), t = Tensor::ones({5, 2});
  NoGrad no_grad;
  s.train();
  EXPECT_NE(s.shift(w, t).to_host(), s.shift(w, t).to_host()) << "two training passes should draw two masks";
  s.eval();
  EXPECT_EQ(s.shift(w, t).to_host(), s.shift(w, t).to_host());
}

TEST(Dropout, ModuleScalesSurvivorsAndIsTheIdentityInEval) {
  // Inverted dropout: every output is 0 or x / (1 - p); the dropped fraction is p within 5
  // standard deviations of a binomial proportion over 20000 draws (sqrt(0.2 * 0.8 / 20000) = 0.0028).
  Generator noise(5);
  Dropout drop(0.2f, noise);
  const Tensor x = Tensor::full({20000}, 3.0f);
  const std::vector<float> y = drop(x).to_host();
  int64_t dropped = 0;
  for (float v : y) {
    ASSERT_TRUE(v == 0.0f || std::fabs(v - 3.0f / 0.8f) < 1e-6f) << v;
    dropped += v == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 20000, 0.2, 5 * 0.0028);
  drop.eval();
  EXPECT_EQ(drop(x).to_host(), x.to_host());
  EXPECT_NE(error_of([&] { Dropout(1.0f, noise); }).find("[0, 1)"), std::string::npos);
}

TEST(ShiftTargets, DrawsEveryNonZeroVectorUniformly) {
  // 3^3 - 1 = 26 vectors, 26000 draws: each count is 1000 +- 5 sqrt(1000 * 25/26) = 155.
  Generator noise(6);
  const std::vector<float> t = draw_targets(26000, 3, noise).to_host();
  std::map<std::vector<float>, int> counts;
  for (size_t i = 0; i < t.size(); i += 3) {
    const std::vector<float> row(t.begin() + i, t.begin() + i + 3);
    for (float v : row) ASSERT_TRUE(v == -1.0f || v == 0.0f || v == 1.0f);
    counts[row]++;
  }
  EXPECT_EQ(counts.size(), 26u);
  EXPECT_EQ(counts.count({0.0f, 0.0f, 0.0f}), 0u);
  for (const auto& [row, c] : counts) EXPECT_NEAR(c, 1000, 155);
}

TEST(ShiftTargets, SetOneAttributeWithOthersFreeOrHeld) {
  const std::vector<int8_t> read{1, -1, 1, -1, -1, 1};  // two units, three targets
  EXPECT_EQ(flip_targets(0, read, 3, Effect::total).to_host(), (std::vector<float>{-1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(flip_targets(2, read, 3, Effect::direct).to_host(), (std::vector<float>{1, -1, -1, -1, -1, -1}));
}

TEST(ShiftTargets, LatentSizeMismatchIsNamed) {
  GanSpec gan;
  gan.z_dim = 64;
  const std::string e = error_of([&] { check_latent_size(spec_of(100, {"Red"}), gan, "runs/g/step.safetensors"); });
  EXPECT_NE(e.find("--generator runs/g/step.safetensors: latent size 64 does not match the shift predictor's 100"),
            std::string::npos)
      << e;
}

TEST(ShiftTargets, OutcomeNotInTheClassifierIsNamed) {
  ClassifierSpec cs;
  cs.image_size = 32, cs.channels = 3, cs.num_classes = 2;
  LoadedClassifier clf{std::make_shared<Classifier>(cs), {"0_not_Red", "1_Red"}, 1.0};
  EXPECT_EQ(clf.output_index("1_Red", "--outcome"), 1);
  EXPECT_EQ(error_of([&] { clf.output_index("Red", "--outcome"); }),
            "--outcome: 'Red' is not an output of the classifier (classes: 0_not_Red, 1_Red)");
}

TEST(Golden, ShiftStep) {
  // One shift_train_step (no dropout) against PyTorch: loss parts, S's gradients and its weights
  // after Adam. Gradients of a 3-layer MLP in fp32 differ by summation order: atol 1e-5 + rtol 1e-4.
  const SafetensorsFile f = load_golden("shift_step");
  ShiftSpec spec = spec_of(5, {"A", "B", "C"}, 16);
  spec.dropout1 = spec.dropout2 = 0.0f;
  Generator noise(7);
  ShiftPredictor s(spec, noise);
  s.load_state_dict(f.tensors, "S.");
  Adam opt(s.named_parameters(), {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f});
  const Tensor a = f.tensors.at("a"), b = f.tensors.at("b"), c = f.tensors.at("c");
  auto target_logits = [&](const Tensor& w) { return linear(tanh(linear(w, a)), b, c); };
  const Tensor z = f.tensors.at("z"), t = f.tensors.at("t");
  {
    NoGrad no_grad;
    expect_close(s.shift(z, t), f.tensors.at("dw"), 1e-5f, 1e-4f, "dw");
  }
  const ShiftStepStats stats = shift_train_step(s, opt, target_logits, z, t, 0.05f);
  EXPECT_NEAR(stats.loss, f.tensors.at("loss").item(), 1e-5);
  EXPECT_NEAR(stats.bce, f.tensors.at("bce").item(), 1e-5);
  EXPECT_NEAR(stats.shift_norm, f.tensors.at("shift_norm").item(), 1e-5);
  for (const auto& [name, p] : s.named_parameters()) {
    expect_close(p.grad(), f.tensors.at("grad.net." + name.substr(4)), 1e-5f, 1e-4f, "grad " + name);
    expect_close(p, f.tensors.at("after." + name), 1e-5f, 1e-4f, "after " + name);
  }
}

TEST(ContrastiveScores, CountPairsAsWorkedOutByHand) {
  std::vector<ContrastiveUnit> u;
  add(u, 3, true, true, false);   // x, o, flipped to o': necessary; o_x and o'_x' -> NESUF
  add(u, 1, true, true, true);    // x, o, still o: not necessary
  add(u, 1, false, false, true);  // x', o', set to x gives o: sufficient; NESUF
  add(u, 4, false, false, false);
  add(u, 2, true, false, false);  // o' either way
  add(u, 2, false, true, true);   // o either way
  const CausalScores s = contrastive_scores("X", u);
  EXPECT_EQ(s.attribute, "X");
  EXPECT_EQ(s.nec.hits, 3);
  EXPECT_EQ(s.nec.count, 4);  // NEC = 3/4
  EXPECT_EQ(s.suf.hits, 1);
  EXPECT_EQ(s.suf.count, 5);  // SUF = 1/5
  EXPECT_EQ(s.nesuf.hits, 4);
  EXPECT_EQ(s.nesuf.count, 13);  // NESUF = 4/13
  EXPECT_DOUBLE_EQ(s.nec.value, 0.75);
  EXPECT_LT(s.nec.lo, 0.75);
  EXPECT_GT(s.nec.hi, 0.75);
}

TEST(ContrastiveScores, EmptyConditionIsNaN) {
  std::vector<ContrastiveUnit> u;
  add(u, 5, false, false, true);  // nobody has X = x: NEC undefined, SUF = 1, NESUF = 1
  const CausalScores s = contrastive_scores("X", u);
  EXPECT_TRUE(std::isnan(s.nec.value));
  EXPECT_EQ(s.nec.count, 0);
  EXPECT_DOUBLE_EQ(s.suf.value, 1.0);
  EXPECT_DOUBLE_EQ(s.nesuf.value, 1.0);
}

TEST(LewisScores, UnadjustedTable) {
  // P(o) = 1/2, P(o | x) = 3/4, P(o | x') = 1/4, P(x, o) = P(x', o') = 3/8:
  // NEC = (1/2 - 1/4) / (3/8) = 2/3, SUF = (3/4 - 1/2) / (3/8) = 2/3, NESUF = 3/4 - 1/4 = 1/2.
  ObservationalTable t;
  add(t, 3, {1}, true);
  add(t, 1, {1}, false);
  add(t, 1, {-1}, true);
  add(t, 3, {-1}, false);
  const LewisScores s = lewis_scores(t, 0, {}, "X");
  EXPECT_NEAR(s.nec, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.suf, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.nesuf, 0.5, 1e-12);
  EXPECT_EQ(s.strata, 1);
  EXPECT_EQ(s.rows_used, 8);
}

TEST(LewisScores, BackDoorAdjustmentRemovesConfounding) {
  // Columns (X, C). C decides O (o exactly where C is on) and makes X likely; X does nothing.
  // Unadjusted: P(o) = 1/2, P(o | x) = 4/5, P(o | x') = 1/5, P(x, o) = P(x', o') = 2/5:
  // NEC = SUF = (3/10) / (2/5) = 3/4, NESUF = 3/5. Adjusted for C: P(o_x) = P(o_x') = 1/2: all 0.
  ObservationalTable t;
  add(t, 4, {1, 1}, true);
  add(t, 1, {-1, 1}, true);
  add(t, 1, {1, -1}, false);
  add(t, 4, {-1, -1}, false);
  const LewisScores naive = lewis_scores(t, 0, {}, "X");
  EXPECT_NEAR(naive.nec, 0.75, 1e-12);
  EXPECT_NEAR(naive.suf, 0.75, 1e-12);
  EXPECT_NEAR(naive.nesuf, 0.6, 1e-12);
  const LewisScores adjusted = lewis_scores(t, 0, {1}, "X");
  EXPECT_NEAR(adjusted.nec, 0.0, 1e-12);
  EXPECT_NEAR(adjusted.suf, 0.0, 1e-12);
  EXPECT_NEAR(adjusted.nesuf, 0.0, 1e-12);
  EXPECT_EQ(adjusted.strata, 2);
}

TEST(LewisScores, AdjustingForAMediatorGivesTheDirectEffect) {
  // Columns (X, M): X makes M likely (3 of 4 vs 1 of 4) and O = X and M. Total effect (X is a
  // root, no adjustment): P(o | x) = 3/4, P(o | x') = 0, P(o) = P(x, o) = 3/8, P(x', o') = 1/2:
  // NEC = 1, SUF = (3/4 - 3/8) / (1/2) = 3/4, NESUF = 3/4. With M held at its factual value (the
  // direct effect), by hand: the (x, o) units all have M on, so x' gives o': NEC = 1; of the four
  // (x', o') units one has M on: SUF = 1/4; o_x and o'_x' together exactly where M is on: NESUF =
  // 1/2. LEWIS adjusted for M gives those: P(o_x) = P(M on) = 1/2, P(o_x') = 0.
  ObservationalTable t;
  add(t, 3, {1, 1}, true);
  add(t, 1, {1, -1}, false);
  add(t, 1, {-1, 1}, false);
  add(t, 3, {-1, -1}, false);
  const LewisScores total = lewis_scores(t, 0, {}, "X");
  EXPECT_NEAR(total.nec, 1.0, 1e-12);
  EXPECT_NEAR(total.suf, 0.75, 1e-12);
  EXPECT_NEAR(total.nesuf, 0.75, 1e-12);
  const LewisScores direct = lewis_scores(t, 0, {1}, "X");
  EXPECT_NEAR(direct.nec, 1.0, 1e-12);
  EXPECT_NEAR(direct.suf, 0.25, 1e-12);
  EXPECT_NEAR(direct.nesuf, 0.5, 1e-12);
}

TEST(LewisScores, ClipsWhereTheDecisionFallsWithX) {
  // O falls with X (monotonicity fails): P(o) = 1/2, P(o | x) = 1/4, P(o | x') = 3/4,
  // P(x, o) = P(x', o') = 1/8: NEC = SUF = -2, NESUF = -1/2, all clipped to 0.
  ObservationalTable t;
  add(t, 3, {1}, false);
  add(t, 1, {1}, true);
  add(t, 3, {-1}, true);
  add(t, 1, {-1}, false);
  const LewisScores s = lewis_scores(t, 0, {}, "X");
  EXPECT_NEAR(s.nec_raw, -2.0, 1e-12);
  EXPECT_NEAR(s.suf_raw, -2.0, 1e-12);
  EXPECT_NEAR(s.nesuf_raw, -0.5, 1e-12);
  EXPECT_EQ(s.nec, 0.0);
  EXPECT_EQ(s.suf, 0.0);
  EXPECT_EQ(s.nesuf, 0.0);
}

TEST(LewisScores, DropsStrataWhereXDoesNotVary) {
  // The unadjusted table above with C = +1, plus five rows with C = -1 where X is always on:
  // that stratum says nothing about X off, is dropped, and the scores are the C = +1 ones.
  ObservationalTable t;
  add(t, 3, {1, 1}, true);
  add(t, 1, {1, 1}, false);
  add(t, 1, {-1, 1}, true);
  add(t, 3, {-1, 1}, false);
  add(t, 5, {1, -1}, true);
  const LewisScores s = lewis_scores(t, 0, {1}, "X");
  EXPECT_EQ(s.strata, 2);
  EXPECT_EQ(s.strata_dropped, 1);
  EXPECT_EQ(s.rows_used, 8);
  EXPECT_NEAR(s.nec, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.suf, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.nesuf, 0.5, 1e-12);
}

TEST(LewisScores, NothingLeftOrNoConditionIsNaN) {
  ObservationalTable constant;
  add(constant, 4, {1, 1}, true);
  add(constant, 2, {1, -1}, false);
  const LewisScores none = lewis_scores(constant, 0, {1}, "X");
  EXPECT_EQ(none.strata_dropped, 2);
  EXPECT_TRUE(std::isnan(none.nec) && std::isnan(none.suf) && std::isnan(none.nesuf));
  // O never happens: no (x, o) rows, NEC undefined; SUF = (0 - 0) / P(x', o') = 0.
  ObservationalTable never;
  add(never, 2, {1}, false);
  add(never, 2, {-1}, false);
  const LewisScores s = lewis_scores(never, 0, {}, "X");
  EXPECT_TRUE(std::isnan(s.nec));
  EXPECT_EQ(s.suf, 0.0);
  EXPECT_EQ(s.nesuf, 0.0);
  EXPECT_NE(error_of([&] { lewis_scores(never, 0, {0}, "X"); }).find("another column"), std::string::npos);
}

TEST(Fidelity, FrequenciesCoOccurrencesAndGaps) {
  // Rows (A, B): (+,+), (+,-), (-,-), (-,-): P(A) = 1/2, P(B) = 1/4, P(A, B) = 1/4.
  const AttributeStats s = attribute_stats({1, 1, 1, -1, -1, -1, -1, -1}, 2);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.frequency, (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(s.joint, (std::vector<double>{0.5, 0.25, 0.25, 0.25}));
  // Against (+,+), (-,-): P(A) = P(B) = P(A, B) = 1/2.
  const FidelityGap gap = fidelity_gap(s, attribute_stats({1, 1, -1, -1}, 2));
  EXPECT_DOUBLE_EQ(gap.frequency, 0.25);
  EXPECT_DOUBLE_EQ(gap.joint, 0.25);
}

TEST(GeneratedUnits, BookkeepingAgreesWithItself) {
  // Small untrained networks: what matters is that the per-unit records agree with each other
  // and with a fresh reading of the same decodes, not what the networks draw.
  manual_seed(11);
  FrozenModels frozen;
  frozen.gan.image_size = 32, frozen.gan.channels = 3, frozen.gan.z_dim = 6, frozen.gan.width = 4;
  frozen.generator = make_generator(frozen.gan);
  frozen.generator->eval();
  ClassifierSpec cs;
  cs.image_size = 32, cs.channels = 3, cs.num_classes = 3, cs.multi_label = true, cs.width = 4, cs.features = 8;
  frozen.judge = {std::make_shared<Classifier>(cs), {"A", "B", "C"}, 1.0};
  frozen.heads = {0, 1, 2};
  Generator noise(12);
  ShiftPredictor shift(spec_of(6, {"A", "B", "C"}, 16), noise);
  const DecideImages decide = decide_images(*frozen.judge.model, 1);  // O = the judge's head B
  const int64_t n = 24, k = 3;
  const GeneratedUnits u = generate_units(shift, frozen, decide, n, Effect::total, 13, 10);
  ASSERT_EQ(u.factual.size(), static_cast<size_t>(n * k));
  ASSERT_EQ(u.changed.size(), static_cast<size_t>(k * k));
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(u.decision[i], u.factual[i * k + 1] > 0) << "O is head B";
  for (int64_t x = 0; x < k; ++x) {
    int64_t took = 0, moved_others = 0, not_kept = 0;
    for (int64_t i = 0; i < n; ++i) took += u.took[x][i], not_kept += !u.others_kept[x][i];
    for (int64_t j = 0; j < k; ++j) moved_others += j == x ? 0 : u.changed[x * k + j];
    EXPECT_EQ(u.changed[x * k + x], took);
    EXPECT_LE(not_kept, moved_others);
    EXPECT_EQ(not_kept == 0, moved_others == 0);
    // With O = head B, flipping B changes O exactly where the edit took.
    if (x == 1) {
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(u.flipped_decision[1][i] != u.decision[i], u.took[1][i] != 0);
    }
  }
  // The same seed gives the same units; the table is the factual side.
  const GeneratedUnits again = generate_units(shift, frozen, decide, n, Effect::total, 13, 7);
  EXPECT_EQ(again.factual, u.factual);
  EXPECT_EQ(u.table().attributes, u.factual);
  EXPECT_EQ(u.pairs(2).size(), static_cast<size_t>(n));
  EXPECT_EQ(flip_grid(shift, frozen, Tensor::zeros({2, 6}), Effect::direct).shape(), (Shape{8, 3, 32, 32}));
}
