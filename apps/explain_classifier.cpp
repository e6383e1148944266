// explain_classifier: global necessity and sufficiency scores of a classifier's decision for
// each attribute a train_shift run can edit (docs/contrastive.md): the contrastive Monte-Carlo
// estimator over counterfactual pairs in the generator's latent space, and LEWIS's observational
// estimator over the same units' factual table; with --truth, both against a causal_world scores
// file, and with --world, the generator's fidelity to the world's images as the judge reads them.
//
//   explain_classifier --shift runs/shift --classifier runs/clf --outcome 1_Red_and_Large
//                      --world worlds/test --truth truth.json --n 10000 --out runs/explain
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/data/dataset.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/plot.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/contrastive/fidelity.h"
#include "models/contrastive/generated_units.h"
#include "models/contrastive/shift_trainer.h"
#include "models/world/world_dir.h"

using namespace cfgan;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kScoreNames[3] = {"nec", "suf", "nesuf"};
constexpr double kWithin = 0.05;  // how close to the truth an estimate must be to count as agreeing

// "Red:Large;Spotted:" -> {Red: [Large], Spotted: []}; names checked against the targets.
std::map<std::string, std::vector<int>> parse_adjustment(const std::string& text,
                                                         const std::vector<std::string>& targets) {
  auto index = [&](const std::string& name) {
    for (size_t i = 0; i < targets.size(); ++i)
      if (targets[i] == name) return static_cast<int>(i);
    fail("--adjust: '", name, "' is not one of the shift predictor's targets");
  };
  std::map<std::string, std::vector<int>> out;
  std::stringstream in(text);
  for (std::string entry; std::getline(in, entry, ';');) {
    const size_t colon = entry.find(':');
    CFGAN_CHECK(colon != std::string::npos, "--adjust: expected X:A,B;Y: entries, got '", entry, "'");
    const std::string x = entry.substr(0, colon);
    index(x);
    std::vector<int>& set = out[x];
    std::stringstream names(entry.substr(colon + 1));
    for (std::string name; std::getline(names, name, ',');)
      if (!name.empty()) set.push_back(index(name));
  }
  return out;
}

// X's parents in the world's spec, as target indices; a parent S cannot read cannot be adjusted for.
std::vector<int> spec_parents(const WorldSpec& spec, const std::vector<std::string>& targets, const std::string& x) {
  std::vector<int> set;
  for (int p : spec.attributes[spec.index_of(x, "--world's scm.json")].parents) {
    const std::string& name = spec.attributes[p].name;
    auto it = std::find(targets.begin(), targets.end(), name);
    CFGAN_CHECK(it != targets.end(), "LEWIS: '", x, "' has the parent '", name,
                "', which the shift predictor's judge does not read; give --adjust");
    set.push_back(static_cast<int>(it - targets.begin()));
  }
  return set;
}

json proportion_json(const Proportion& p) {
  return {{"value", std::isnan(p.value) ? json() : json(p.value)}, {"lo", p.lo}, {"hi", p.hi}, {"count", p.count}};
}
json number_json(double v) { return std::isnan(v) ? json() : json(v); }

// The world folder's images as an observational table: the judge's readings and the
// classifier's decisions (LEWIS on real data, and the real side of the fidelity comparison).
ObservationalTable read_world_table(FrozenModels& frozen, const DecideImages& decide, const std::string& world_dir) {
  const ImageDataset real = load_image_folder(world_dir, frozen.gan.image_size, frozen.gan.channels);
  ObservationalTable table{real.count, static_cast<int64_t>(frozen.heads.size()), {}, {}};
  for (int64_t b = 0; b < real.count; b += 256) {
    const Tensor images = image_batch(real, b, std::min<int64_t>(256, real.count - b)).to(frozen.device);
    const std::vector<int8_t> r = frozen.read_targets(images);
    const std::vector<uint8_t> o = decide(images);
    table.attributes.insert(table.attributes.end(), r.begin(), r.end());
    table.decision.insert(table.decision.end(), o.begin(), o.end());
  }
  return table;
}

void print_fidelity(const std::vector<std::string>& targets, const AttributeStats& gen, const AttributeStats& real) {
  std::printf("  generator fidelity (judge's readings, %ld generated vs %ld real images):\n",
              static_cast<long>(gen.count), static_cast<long>(real.count));
  for (int64_t i = 0; i < gen.k; ++i)
    std::printf("    P(%s) %.3f vs %.3f\n", targets[i].c_str(), gen.frequency[i], real.frequency[i]);
  const FidelityGap gap = fidelity_gap(gen, real);
  std::printf("    largest gap: %.3f in a frequency, %.3f in a pair's co-occurrence\n", gap.frequency, gap.joint);
}

int run(int argc, char** argv) {
  Flags flags(argc, argv, "explain_classifier",
              "necessity and sufficiency of each attribute for a classifier's decision, from contrastive "
              "counterfactuals in a generator's latent space");
  const std::string shift_flag = flags.get("shift", "", "train_shift run or checkpoint");
  const std::string classifier_flag = flags.get("classifier", "", "the classifier to explain (run or checkpoint)");
  const std::string outcome = flags.get("outcome", "", "its decision: a class name, or an attribute head");
  const std::string effect_text =
      flags.get("effect", "total", "total (other targets 0: don't care) or direct (other targets held as read)");
  const int64_t n = flags.get_int("n", 10000, "generated units");
  const int64_t batch = flags.get_int("batch", 256, "units decoded at a time");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of the units' latent codes"));
  const std::string generator_flag =
      flags.get("generator", "", "train_gan run or checkpoint (default: the one S was trained on)");
  const std::string world_dir =
      flags.get("world", "", "causal-world folder: LEWIS's adjustment sets (X's parents) and the real images");
  const std::string adjust = flags.get(
      "adjust", "", "LEWIS adjustment sets X:A,B;Y: (default: X's parents in --world, all other targets for direct)");
  const std::string truth_path = flags.get("truth", "", "causal_world scores --json file to compare with");
  const int64_t examples = flags.get_int("examples", 8, "rows of the counterfactual example grid");
  const std::string out = flags.get("out", "", "output folder");
  const Device device = parse_device(flags.get("device", "auto", "cpu, cuda or auto"));
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!shift_flag.empty() && !classifier_flag.empty() && !outcome.empty() && !out.empty(),
              "--shift, --classifier, --outcome and --out are required (see --help)");
  CFGAN_CHECK(n >= 1 && batch >= 1 && examples >= 1, "--n, --batch and --examples must be >= 1");
  const Effect effect = parse_effect(effect_text, "--effect");

  const std::string shift_path = resolve_checkpoint(shift_flag, "--shift");
  LoadedShift shift = load_shift(shift_path, device);
  const ShiftSpec& spec = shift.predictor->spec();
  const std::string generator =
      generator_flag.empty() ? shift.generator_path : resolve_checkpoint(generator_flag, "--generator");
  FrozenModels frozen = load_frozen_models(generator, shift.judge_path, spec.targets, device);
  check_latent_size(spec, frozen.gan, generator);
  const std::string classifier_path = resolve_checkpoint(classifier_flag, "--classifier");
  LoadedClassifier clf = load_classifier(classifier_path);
  const ClassifierSpec& cs = clf.model->spec();
  CFGAN_CHECK(cs.channels == frozen.gan.channels && cs.image_size == frozen.gan.image_size, "--classifier ",
              classifier_path, ": reads ", cs.channels, "x", cs.image_size, "x", cs.image_size,
              " images, the generator makes ", frozen.gan.channels, "x", frozen.gan.image_size, "x",
              frozen.gan.image_size);
  const int64_t output = clf.output_index(outcome, "--outcome");
  clf.model->to(device);

  std::optional<WorldFolder> world;
  if (!world_dir.empty()) world = read_world(world_dir);
  const std::map<std::string, std::vector<int>> adjusted = parse_adjustment(adjust, spec.targets);
  json truth;
  if (!truth_path.empty()) {
    std::ifstream in(truth_path);
    CFGAN_CHECK(in, "--truth ", truth_path, ": cannot read");
    try {
      truth = json::parse(in);
    } catch (const json::exception& e) {
      fail("--truth ", truth_path, ": not JSON (", e.what(), ")");
    }
    CFGAN_CHECK(truth.value("effect", "") == effect_text, "--truth ", truth_path, ": holds ",
                truth.value("effect", "?"), "-effect scores, this run estimates the ", effect_text, " effect");
  }

  std::printf("explain_classifier: '%s' of %s, %s effect, %ld generated units (generator %s, shift %s)\n",
              outcome.c_str(), classifier_path.c_str(), effect_text.c_str(), static_cast<long>(n), generator.c_str(),
              shift_path.c_str());
  std::fflush(stdout);
  const DecideImages decide = decide_images(*clf.model, output);
  const GeneratedUnits units = generate_units(*shift.predictor, frozen, decide, n, effect, seed, batch);
  std::optional<ObservationalTable> real_table;
  if (world) real_table = read_world_table(frozen, decide, world_dir);
  const ObservationalTable table = units.table();

  json report{{"shift", shift_path}, {"generator", generator}, {"classifier", classifier_path},
              {"outcome", outcome},  {"effect", effect_text},  {"units", n},
              {"seed", seed},        {"truth", truth_path},    {"attributes", json::array()}};
  BarChart bars;
  bars.series = {{"NEC"}, {"SUF"}, {"NESUF"}};
  std::vector<BarChart> compare(3);
  for (BarChart& c : compare) c.series = {{"truth"}, {"contrastive"}, {"LEWIS"}};
  int64_t pairs = 0, within = 0, lewis_within = 0, lewis_real_within = 0;
  double widest = 0;  // the widest contrastive 95% interval: --n is enough when it is below kWithin
  std::printf("  %-20s %-5s %-26s %-7s %-7s %-7s %-7s %s\n", "attribute", "score", "contrastive [95% CI] (n)", "LEWIS",
              "real", "truth", "took", "others kept");
  for (int64_t x = 0; x < spec.num_targets(); ++x) {
    const std::string& name = spec.targets[x];
    const CausalScores c = contrastive_scores(name, units.pairs(x));
    // LEWIS's adjustment set. Total effect: X's parents close every back-door path. Direct
    // effect: every other target, which holds the mediators as well; within each stratum the
    // formula then gives the effect of X with the rest at their factual values (docs/contrastive.md).
    std::vector<int> set;
    if (adjusted.count(name)) {
      set = adjusted.at(name);
    } else if (effect == Effect::direct) {
      for (int j = 0; j < spec.num_targets(); ++j)
        if (j != x) set.push_back(j);
    } else if (world) {
      set = spec_parents(world->spec, spec.targets, name);
    }
    const LewisScores l = lewis_scores(table, static_cast<int>(x), set, name);
    LewisScores lr;  // on the world's images: LEWIS without the generator's errors
    lr.nec = lr.suf = lr.nesuf = std::nan("");
    if (real_table) lr = lewis_scores(*real_table, static_cast<int>(x), set, name);
    double took = 0, kept = 0;
    for (int64_t i = 0; i < n; ++i) took += units.took[x][i], kept += units.others_kept[x][i];
    took /= n, kept /= n;

    json truth_row;
    if (!truth.is_null())
      for (const json& r : truth.at("scores"))
        if (r.at("attribute") == name) truth_row = r;
    json row{{"attribute", name}, {"edit_took", took}, {"others_kept", kept}, {"lewis_adjustment", json::array()}};
    for (int64_t j = 0; j < spec.num_targets(); ++j)
      row["moved"][spec.targets[j]] = static_cast<double>(units.changed[x * spec.num_targets() + j]) / n;
    for (int a : set) row["lewis_adjustment"].push_back(spec.targets[a]);
    row["lewis_strata_dropped"] = l.strata_dropped;
    const Proportion* cs3[3] = {&c.nec, &c.suf, &c.nesuf};
    const double ls3[3] = {l.nec, l.suf, l.nesuf}, raw3[3] = {l.nec_raw, l.suf_raw, l.nesuf_raw};
    const double real3[3] = {lr.nec, lr.suf, lr.nesuf};
    for (int m = 0; m < 3; ++m) {
      json cell{{"contrastive", proportion_json(*cs3[m])},
                {"lewis", number_json(ls3[m])},
                {"lewis_raw", number_json(raw3[m])},
                {"lewis_real", number_json(real3[m])}};
      double t = std::nan("");
      if (!truth_row.is_null() && !truth_row.at(kScoreNames[m]).at("value").is_null()) {
        t = truth_row.at(kScoreNames[m]).at("value").get<double>();
        cell["truth"] = truth_row.at(kScoreNames[m]);
        const double err = std::fabs(cs3[m]->value - t), lerr = std::fabs(ls3[m] - t);
        cell["contrastive_error"] = number_json(err);
        cell["lewis_error"] = number_json(lerr);
        pairs++;
        within += err <= kWithin;
        lewis_within += lerr <= kWithin;
        lewis_real_within += std::fabs(real3[m] - t) <= kWithin;
      }
      row[kScoreNames[m]] = cell;
      widest = std::max(widest, cs3[m]->hi - cs3[m]->lo);
      char ci[64];
      std::snprintf(ci, sizeof ci, "%.3f [%.3f, %.3f] (%ld)", cs3[m]->value, cs3[m]->lo, cs3[m]->hi,
                    static_cast<long>(cs3[m]->count));
      std::printf("  %-20s %-5s %-26s %-7.3f %-7.3f %-7.3f %-7.3f %.3f\n", m == 0 ? name.c_str() : "", kScoreNames[m],
                  ci, ls3[m], real3[m], t, took, kept);
      bars.series[m].value.push_back(cs3[m]->value);
      bars.series[m].lo.push_back(cs3[m]->lo);
      bars.series[m].hi.push_back(cs3[m]->hi);
      compare[m].series[0].value.push_back(t);
      compare[m].series[1].value.push_back(cs3[m]->value);
      compare[m].series[2].value.push_back(ls3[m]);
    }
    bars.categories.push_back(name);
    for (BarChart& chart : compare) chart.categories.push_back(name);
    report["attributes"].push_back(row);
  }
  std::printf("  widest contrastive 95%% interval: %.3f\n", widest);
  report["widest_interval"] = widest;
  if (pairs > 0) {
    auto share = [&](int64_t count) { return std::to_string(count) + " of " + std::to_string(pairs); };
    std::printf("  within %.2f of the truth: contrastive %s, LEWIS %s", kWithin, share(within).c_str(),
                share(lewis_within).c_str());
    if (real_table) std::printf(", LEWIS on the world's images %s", share(lewis_real_within).c_str());
    std::printf("\n");
    report["within"] = {{"tolerance", kWithin}, {"pairs", pairs}, {"contrastive", within}, {"lewis", lewis_within}};
    if (real_table) report["within"]["lewis_real"] = lewis_real_within;
  }

  fs::create_directories(out);
  if (world) {
    const AttributeStats gen = attribute_stats(units.factual, spec.num_targets());
    const AttributeStats real = attribute_stats(real_table->attributes, spec.num_targets());
    print_fidelity(spec.targets, gen, real);
    const FidelityGap gap = fidelity_gap(gen, real);
    report["fidelity"] = {{"generated", {{"count", gen.count}, {"frequency", gen.frequency}, {"joint", gen.joint}}},
                          {"real", {{"count", real.count}, {"frequency", real.frequency}, {"joint", real.joint}}},
                          {"largest_frequency_gap", gap.frequency},
                          {"largest_joint_gap", gap.joint}};
  }
  const std::string json_path = (fs::path(out) / "scores.json").string();
  std::ofstream(json_path) << report.dump(2) << "\n";
  const std::string title = "'" + outcome + "', " + effect_text + " effect";
  write_bar_chart_png((fs::path(out) / "contrastive.png").string(), bars,
                      {.title = "contrastive scores of " + title + " (95% intervals)",
                       .y_label = "probability",
                       .width = 900,
                       .height = 420});
  if (pairs > 0)
    for (int m = 0; m < 3; ++m)
      write_bar_chart_png((fs::path(out) / (std::string("compare_") + kScoreNames[m] + ".png")).string(), compare[m],
                          {.title = std::string(kScoreNames[m]) + " of " + title + ": truth, contrastive, LEWIS",
                           .y_label = "probability",
                           .width = 900,
                           .height = 420});
  Generator example_noise(seed);
  const Tensor w = Tensor::randn({std::min(examples, n), spec.latent_dim}, example_noise, device);
  // Scaled x3, as the world's counterfactual pairs are, so 32-px images can be looked at.
  const Image grid = image_grid(flip_grid(*shift.predictor, frozen, w, effect), 1 + spec.num_targets());
  write_png((fs::path(out) / "examples.png").string(), resize_image(grid, 3 * grid.width, 3 * grid.height));
  std::printf("explain_classifier: wrote %s, contrastive.png%s, examples.png (factual | one flip per target) in %s\n",
              json_path.c_str(), pairs > 0 ? ", compare_{nec,suf,nesuf}.png" : "", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("explain_classifier", run, argc, argv); }
