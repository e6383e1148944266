// eval_cdvae: how good a CDVAE-GAN's counterfactuals are on the causal world, read by an
// independent attribute judge and measured against the world's true counterfactuals
// (models/cdvae/evaluation.h). Prints a table per flipped attribute and, for several
// checkpoints, a side-by-side summary; --json saves everything.
//
//   eval_cdvae --checkpoint runs/cdvae --judge runs/judge --world worlds/test --n 1000
//   eval_cdvae --checkpoint runs/cdvae,runs/cvae --names CDVAE-GAN,cVAE --judge runs/judge --world worlds/test
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/error.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/cdvae/evaluation.h"
#include "models/world/world_dir.h"

using namespace cfgan;

namespace {

double mean_of(const std::vector<CdvaeAttributeScores>& v, double CdvaeAttributeScores::*field) {
  double sum = 0;
  for (const auto& a : v) sum += a.*field;
  return sum / static_cast<double>(v.size());
}

double min_of(const std::vector<CdvaeAttributeScores>& v, double CdvaeAttributeScores::*field) {
  double m = 1e300;
  for (const auto& a : v) m = std::min(m, a.*field);
  return m;
}

nlohmann::json print_scores(const std::string& checkpoint, const CdvaeScores& s) {
  std::printf(
      "%s\n  reconstruction L1 %.4f   FD reconstructions %.2f   FD counterfactuals %.2f (%.2fx)   "
      "FD true counterfactuals %.2f (%.2fx) direct, %.2f total\n",
      checkpoint.c_str(), s.reconstruction_l1, s.fd_reconstructions, s.fd_counterfactuals,
      s.fd_counterfactuals / s.fd_reconstructions, s.fd_direct_truth, s.fd_direct_truth / s.fd_reconstructions,
      s.fd_total_truth);
  std::printf("  %-20s %9s %7s %7s %7s %11s %11s %11s %10s %10s %10s %10s\n", "flipped", "deception", "(to on",
              "to off)", "truth", "keep desc.", "keep others", "(vs recon)", "L1 direct", "L1 total", "feat dir.",
              "feat tot.");
  nlohmann::json j{{"checkpoint", checkpoint},
                   {"units", s.units},
                   {"reconstruction_l1", s.reconstruction_l1},
                   {"fd_reconstructions", s.fd_reconstructions},
                   {"fd_counterfactuals", s.fd_counterfactuals},
                   {"fd_direct_truth", s.fd_direct_truth},
                   {"fd_total_truth", s.fd_total_truth},
                   {"attributes", nlohmann::json::array()}};
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  for (const CdvaeAttributeScores& a : s.attributes) {
    std::printf("  %-20s %9.3f %7.3f %7.3f %7.3f %11.3f %11.3f %11.3f %10.4f %10.4f %10.3f %10.3f\n",
                a.attribute.c_str(), a.deception, a.deception_to_on, a.deception_to_off, a.judge_reads_truth,
                a.preserve_descendants, a.preserve_others, a.preserve_others_vs_reconstruction, a.l1_direct,
                a.l1_total, a.feature_direct, a.feature_total);
    j["attributes"].push_back({{"attribute", a.attribute},
                               {"deception", a.deception},
                               {"deception_to_on", number(a.deception_to_on)},
                               {"deception_to_off", number(a.deception_to_off)},
                               {"units_to_on", a.units_to_on},
                               {"judge_reads_truth", a.judge_reads_truth},
                               {"preserve_descendants", number(a.preserve_descendants)},
                               {"preserve_others", number(a.preserve_others)},
                               {"preserve_others_vs_reconstruction", number(a.preserve_others_vs_reconstruction)},
                               {"l1_direct", a.l1_direct},
                               {"l1_total", a.l1_total},
                               {"feature_direct", a.feature_direct},
                               {"feature_total", a.feature_total}});
  }
  std::printf(
      "  (truth: the judge's reading of the true direct counterfactuals, the deception a perfect model would "
      "score;\n   keep desc. is nan for an attribute with no descendant in the world's graph)\n");
  return j;
}

int run(int argc, char** argv) {
  Flags flags(argc, argv, "eval_cdvae", "score CDVAE-GAN counterfactuals against the causal world's");
  const std::vector<std::string> checkpoints =
      flags.get_list("checkpoint", "", "train_cdvae runs or checkpoints, comma-separated");
  std::vector<std::string> names =
      flags.get_list("names", "", "a name per checkpoint for the summary (default: the paths)");
  const std::string judge_flag = flags.get("judge", "", "train_classifier --target attributes run or checkpoint");
  const std::string world_dir = flags.get("world", "", "a causal_world folder (its units are scored)");
  const int64_t n = flags.get_int("n", 1000, "units scored (the first n of the world)");
  const std::string json_path = flags.get("json", "", "also write the scores as JSON here");
  set_threads(static_cast<int>(flags.get_int("threads", max_threads(), "CPU threads")));
  flags.finish();
  CFGAN_CHECK(!checkpoints.empty() && !judge_flag.empty() && !world_dir.empty(),
              "--checkpoint, --judge and --world are required (see --help)");
  CFGAN_CHECK(n >= 2, "--n: must be >= 2, got ", n);
  if (names.empty()) names = checkpoints;
  CFGAN_CHECK(names.size() == checkpoints.size(), "--names: ", names.size(), " names for ", checkpoints.size(),
              " checkpoints");
  const std::string judge_path = resolve_checkpoint(judge_flag, "--judge");
  const LoadedClassifier judge = load_classifier(judge_path);
  CFGAN_CHECK(judge.model->spec().multi_label, "--judge ", judge_path,
              ": a class classifier; the judge needs attribute heads (train_classifier --target attributes)");
  WorldFolder world = read_world(world_dir);
  world.units.count = std::min(world.units.count, n);

  std::printf("eval_cdvae: %ld units of %s, judge %s\n", static_cast<long>(world.units.count), world_dir.c_str(),
              judge_path.c_str());
  nlohmann::json j{{"judge", judge_path}, {"world", world_dir}, {"models", nlohmann::json::array()}};
  std::vector<CdvaeScores> all;
  for (size_t m = 0; m < checkpoints.size(); ++m) {
    const std::string checkpoint = resolve_checkpoint(checkpoints[m], "--checkpoint");
    const std::shared_ptr<CdvaeGan> model = load_cdvae(checkpoint);
    all.push_back(score_cdvae(*model, *judge.model, judge.class_names, world.spec, world.units));
    nlohmann::json entry = print_scores(names[m] + " (" + checkpoint + ")", all.back());
    entry["name"] = names[m];
    j["models"].push_back(entry);
    std::fflush(stdout);
  }
  if (all.size() > 1) {
    std::printf(
        "\n| model | deception mean (min) | keep others mean (min) | keep others vs recon | L1 to direct truth | "
        "L1 to total truth | recon L1 | FD cf / FD recon | FD cf / FD true direct cf |\n"
        "|---|---|---|---|---|---|---|---|---|\n");
    for (size_t m = 0; m < all.size(); ++m) {
      const auto& a = all[m].attributes;
      std::printf("| %s | %.3f (%.3f) | %.3f (%.3f) | %.3f | %.4f | %.4f | %.4f | %.2f | %.2f |\n",
                  names[m].c_str(),
                  mean_of(a, &CdvaeAttributeScores::deception), min_of(a, &CdvaeAttributeScores::deception),
                  mean_of(a, &CdvaeAttributeScores::preserve_others), min_of(a, &CdvaeAttributeScores::preserve_others),
                  mean_of(a, &CdvaeAttributeScores::preserve_others_vs_reconstruction),
                  mean_of(a, &CdvaeAttributeScores::l1_direct), mean_of(a, &CdvaeAttributeScores::l1_total),
                  all[m].reconstruction_l1, all[m].fd_counterfactuals / all[m].fd_reconstructions,
                  all[m].fd_counterfactuals / all[m].fd_direct_truth);
    }
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << j.dump(2) << "\n";
    CFGAN_CHECK(out, "--json ", json_path, ": cannot write");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("eval_cdvae", run, argc, argv); }
