// causal_world: the synthetic world with a known causal model (docs/causal-world.md).
//
//   causal_world generate --n 10000 --split biased --out worlds/biased
//   causal_world counterfactual --world worlds/test --do Red=-1 --out worlds/test-red-off
//   causal_world scores --world worlds/test --classifier runs/judge --outcome Red
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/error.h"
#include "engine/io/plot.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/classifier.h"
#include "models/world/render.h"
#include "models/world/scores.h"
#include "models/world/world_dir.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

int generate(int argc, char** argv) {
  Flags flags(argc, argv, "causal_world generate", "draw units from the causal model and render them");
  const int64_t n = flags.get_int("n", 10000, "images");
  SplitOptions split;
  split.split = flags.get("split", "train", "train or test (from the model), or biased (the planted shortcut)");
  split.label = flags.get("label", "Round", "the class: an attribute or a formula, e.g. Red&Large or Red|!Round");
  split.shortcut =
      flags.get("shortcut", "Striped_Background", "biased split: the attribute made to agree with the label");
  split.strength = flags.get_double("shortcut-strength", 0.95, "biased split: how often the shortcut agrees");
  split.seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of the units (each split its own stream)"));
  const std::string spec_path = flags.get("spec", "", "scm.json to use instead of the built-in model");
  const int64_t size = flags.get_int("size", 0, "image size, 32 or 64 (default: the spec's, 32)");
  const std::string out = flags.get("out", "worlds/" + split.split, "output folder");
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();

  WorldSpec spec = spec_path.empty() ? WorldSpec::defaults() : WorldSpec::read(spec_path);
  if (size != 0) {
    CFGAN_CHECK(size == 32 || size == 64, "--size: expected 32 or 64, got ", size);
    spec.image_size = size;
  }
  const LabelRule label = LabelRule::parse(spec, split.label);
  std::printf("causal_world: %ld %s units, label '%s', %ldx%ld, writing %s\n", static_cast<long>(n),
              split.split.c_str(), label.text().c_str(), static_cast<long>(spec.image_size),
              static_cast<long>(spec.image_size), out.c_str());
  std::fflush(stdout);
  const WorldUnits units = draw_split(spec, n, split);
  nlohmann::json about{{"split", split.split}, {"seed", split.seed}};
  if (split.split == "biased") about["shortcut"] = split.shortcut, about["shortcut_strength"] = split.strength;
  write_world(out, spec, units, label, about);
  std::printf(
      "causal_world: wrote %s: %s/ and %s/, list_attr.txt, exogenous.safetensors, masks.safetensors, "
      "scm.json, world.json, graph.png, preview.png\n",
      out.c_str(), label.class_name(false).c_str(), label.class_name(true).c_str());
  return 0;
}

int counterfactual(int argc, char** argv) {
  Flags flags(argc, argv, "causal_world counterfactual", "render the exact counterfactuals of a generated world");
  const std::string world_dir = flags.get("world", "", "a folder written by causal_world generate");
  const std::string do_text = flags.get("do", "", "the intervention, e.g. Red=-1 or Red=-1,Large=1");
  const std::string effect_text = flags.get("effect", "total", "total (descendants follow) or direct (others held)");
  const std::string out = flags.get("out", "", "output folder (the same file names as --world)");
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!world_dir.empty() && !out.empty(), "--world and --out are required (see --help)");
  CFGAN_CHECK(fs::weakly_canonical(world_dir) != fs::weakly_canonical(out), "--out ", out,
              ": must differ from --world, whose images it would overwrite");
  const WorldFolder world = read_world(world_dir);
  const Intervention intervention = parse_intervention(world.spec, do_text, "--do");
  const Effect effect = parse_effect(effect_text, "--effect");
  nlohmann::json about = world.about;
  about["factual"] = world_dir;
  std::printf("causal_world: the %s-effect counterfactuals of %ld units of %s under do(%s), writing %s\n",
              effect_text.c_str(), static_cast<long>(world.units.count), world_dir.c_str(), do_text.c_str(),
              out.c_str());
  write_world(out, world.spec, world.units, LabelRule::parse(world.spec, world.label), about, intervention, effect);
  const std::string pairs = (fs::path(out) / "pairs.png").string();
  write_counterfactual_pairs(pairs, world.spec, world.units, intervention, effect, 16);
  std::printf("causal_world: wrote %s (same file names as %s) and %s (factual above counterfactual)\n", out.c_str(),
              world_dir.c_str(), pairs.c_str());
  return 0;
}

void print_table(const std::vector<CausalScores>& scores) {
  std::printf("  %-20s %-24s %-24s %-24s\n", "attribute", "NEC [95% CI] (n)", "SUF [95% CI] (n)", "NESUF [95% CI]");
  auto cell = [](const Proportion& p) {
    char text[64];
    std::snprintf(text, sizeof text, "%.3f [%.3f, %.3f] (%ld)", p.value, p.lo, p.hi, static_cast<long>(p.count));
    return std::string(text);
  };
  for (const CausalScores& s : scores)
    std::printf("  %-20s %-24s %-24s %-24s\n", s.attribute.c_str(), cell(s.nec).c_str(), cell(s.suf).c_str(),
                cell(s.nesuf).c_str());
}

int scores(int argc, char** argv) {
  Flags flags(argc, argv, "causal_world scores", "the true NEC / SUF / NESUF of a classifier's decision");
  const std::string world_dir = flags.get("world", "", "a folder written by causal_world generate (its scm.json)");
  const std::string classifier_path = flags.get("classifier", "", "train_classifier run or checkpoint");
  const std::string outcome = flags.get("outcome", "", "the decision: a class name, or an attribute head");
  const std::string effect_text = flags.get("effect", "total", "total or direct");
  const int64_t n = flags.get_int("n", 10000, "units drawn from the world's model");
  const uint64_t seed = static_cast<uint64_t>(flags.get_int("seed", 1, "seed of the units"));
  const std::string json_path = flags.get("json", "", "also write the scores as JSON here");
  const std::string chart = flags.get("chart", "", "bar chart PNG (default: <world>/scores/<outcome>-<effect>.png)");
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!world_dir.empty() && !classifier_path.empty() && !outcome.empty(),
              "--world, --classifier and --outcome are required (see --help)");
  CFGAN_CHECK(n >= 1, "--n: must be >= 1, got ", n);
  const WorldFolder world = read_world(world_dir);
  const Effect effect = parse_effect(effect_text, "--effect");
  const std::string checkpoint = resolve_checkpoint(classifier_path, "--classifier");
  const LoadedClassifier judge = load_classifier(checkpoint);
  const ClassifierSpec& cs = judge.model->spec();
  CFGAN_CHECK(cs.channels == 3 && cs.image_size == world.spec.image_size, "--classifier ", checkpoint, ": reads ",
              cs.channels, "x", cs.image_size, "x", cs.image_size, " images, the world's are 3x", world.spec.image_size,
              "x", world.spec.image_size);
  const int64_t output = judge.output_index(outcome, "--outcome");

  std::vector<int> attributes(world.spec.attributes.size());
  for (size_t k = 0; k < attributes.size(); ++k) attributes[k] = static_cast<int>(k);
  // Fresh units from the model (stream 5, apart from the splits'): the scores are properties of
  // the model's population, whatever selection made the world folder.
  const WorldUnits units = sample_units(world.spec, n, seed, 5);
  std::printf("causal_world: true %s-effect scores of '%s' (%s) over %ld units\n", effect_text.c_str(), outcome.c_str(),
              checkpoint.c_str(), static_cast<long>(n));
  const std::vector<CausalScores> result =
      true_causal_scores(world.spec, units, attributes, effect, decide_with_classifier(*judge.model, output));
  print_table(result);

  nlohmann::json j{{"world", world_dir},
                   {"classifier", checkpoint},
                   {"outcome", outcome},
                   {"effect", effect_text},
                   {"units", n},
                   {"seed", seed},
                   {"scores", nlohmann::json::array()}};
  BarChart bars;
  bars.series = {{"NEC"}, {"SUF"}, {"NESUF"}};
  for (const CausalScores& s : result) {
    auto entry = [](const Proportion& p) {
      return nlohmann::json{{"value", std::isnan(p.value) ? nlohmann::json() : nlohmann::json(p.value)},
                            {"lo", p.lo},
                            {"hi", p.hi},
                            {"count", p.count}};
    };
    j["scores"].push_back(
        {{"attribute", s.attribute}, {"nec", entry(s.nec)}, {"suf", entry(s.suf)}, {"nesuf", entry(s.nesuf)}});
    bars.categories.push_back(s.attribute);
    const Proportion* ps[3] = {&s.nec, &s.suf, &s.nesuf};
    for (int m = 0; m < 3; ++m) {
      bars.series[m].value.push_back(ps[m]->value);
      bars.series[m].lo.push_back(ps[m]->lo);
      bars.series[m].hi.push_back(ps[m]->hi);
    }
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << j.dump(2) << "\n";
    CFGAN_CHECK(out, "--json ", json_path, ": cannot write");
  }
  const std::string chart_path =
      !chart.empty() ? chart : (fs::path(world_dir) / "scores" / (outcome + "-" + effect_text + ".png")).string();
  write_bar_chart_png(chart_path, bars,
                      {.title = "true " + effect_text + "-effect scores of '" + outcome + "' (95% intervals)",
                       .y_label = "probability",
                       .width = 900,
                       .height = 480});
  std::printf("causal_world: chart %s%s%s\n", chart_path.c_str(), json_path.empty() ? "" : ", JSON ",
              json_path.c_str());
  return 0;
}

int accuracy(int argc, char** argv) {
  Flags flags(argc, argv, "causal_world accuracy",
              "a class classifier's accuracy on a world, apart where a shortcut agrees and disagrees with the label");
  const std::string world_dir = flags.get("world", "", "a folder written by causal_world generate");
  const std::string classifier_path = flags.get("classifier", "", "train_classifier run or checkpoint (classes)");
  const std::string shortcut =
      flags.get("shortcut", "Striped_Background", "the attribute that may stand in for the label");
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!world_dir.empty() && !classifier_path.empty(), "--world and --classifier are required (see --help)");
  const WorldFolder world = read_world(world_dir);
  const LabelRule label = LabelRule::parse(world.spec, world.label);
  const int cut = world.spec.index_of(shortcut, "--shortcut");
  const std::string checkpoint = resolve_checkpoint(classifier_path, "--classifier");
  const LoadedClassifier clf = load_classifier(checkpoint);
  CFGAN_CHECK(!clf.model->spec().multi_label, "--classifier ", checkpoint,
              ": has attribute heads; give a class classifier");
  const int64_t positive = clf.output_index(label.class_name(true), "--classifier " + checkpoint);
  const Decide says_positive = decide_with_classifier(*clf.model, positive);

  // Re-rendered from the units: the same pixels as the folder's PNGs.
  const int64_t k_count = world.spec.num_attributes(), size = world.spec.image_size, image = 3 * size * size;
  int64_t right[2] = {0, 0}, total[2] = {0, 0};  // [shortcut disagrees, agrees]
  std::vector<uint8_t> pixels;
  std::vector<int8_t> attrs;
  for (int64_t b = 0; b < world.units.count; b += 512) {
    const int64_t n = std::min<int64_t>(512, world.units.count - b);
    pixels.resize(static_cast<size_t>(n * image));
    attrs.resize(static_cast<size_t>(n * k_count));
    render_units(world.spec, world.units, b, n, nullptr, Effect::total, pixels.data(), attrs.data());
    const std::vector<uint8_t> says = says_positive(pixels.data(), attrs.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const int8_t* a = attrs.data() + i * k_count;
      const bool truth = label(a), agrees = (a[cut] > 0) == truth;
      ++total[agrees];
      right[agrees] += (says[i] != 0) == truth;
    }
  }
  auto line = [](const char* what, int64_t r, int64_t t) {
    const Proportion p = wilson(t - r, t);
    std::printf("  %-46s %6ld images  %6ld wrong  error %.3f [%.3f, %.3f]\n", what, static_cast<long>(t),
                static_cast<long>(t - r), p.value, p.lo, p.hi);
  };
  std::printf("causal_world: '%s' (%s) on %s, label '%s'\n", checkpoint.c_str(), clf.class_names[positive].c_str(),
              world_dir.c_str(), label.text().c_str());
  line("all", right[0] + right[1], total[0] + total[1]);
  line((shortcut + " agrees with the label").c_str(), right[1], total[1]);
  line((shortcut + " disagrees with the label").c_str(), right[0], total[0]);
  return 0;
}

int run(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "generate") return generate(argc - 1, argv + 1);
  if (command == "counterfactual") return counterfactual(argc - 1, argv + 1);
  if (command == "scores") return scores(argc - 1, argv + 1);
  if (command == "accuracy") return accuracy(argc - 1, argv + 1);
  if (command == "--help" || command == "-h" || command.empty()) {
    std::printf(
        "causal_world: a synthetic image world drawn from a known causal model\n"
        "  causal_world generate        draw and render a split (train, test, biased)\n"
        "  causal_world counterfactual  the exact counterfactual images of a generated split\n"
        "  causal_world scores          a classifier's true necessity and sufficiency scores\n"
        "  causal_world accuracy        a classifier's errors where a shortcut agrees / disagrees\n"
        "each command prints its flags with --help\n");
    return command.empty() ? 1 : 0;
  }
  fail("unknown command '", command, "' (expected generate, counterfactual, scores or accuracy; see --help)");
}

}  // namespace

int main(int argc, char** argv) { return run_app("causal_world", run, argc, argv); }
