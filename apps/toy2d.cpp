// toy2d: GANs on 2-D mixtures of Gaussians (a ring of 8, a 5x5 grid of 25), trained on
// scarce or unlimited data, with and without the information regularizers UR and ER.
// Writes a run directory: results.csv (one row per run), results.md (mean +- std over
// seeds), samples/*.png (scatter plots of the first seed's samples over the modes) and
// info_<data>.png (feature information against training-set size).
//
//   toy2d --data ring --per-mode 5 --ur --out runs/toy_ring_ur
//   toy2d --sweep --out runs/toy_sweep     # ring, grid x baseline, UR, ER, UR+ER x 5, 50, unlimited per mode
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/common/app.h"
#include "apps/common/flags.h"
#include "engine/error.h"
#include "engine/run/progress.h"
#include "engine/run/results_table.h"
#include "engine/run/run_dir.h"
#include "engine/threads.h"
#include "models/regularizers.h"
#include "models/toy2d/data.h"
#include "models/toy2d/sweep.h"

using namespace cfgan;

namespace {

ToySweep parse(Flags& flags, std::string& out, int64_t& threads) {
  ToySweep opt;
  const bool sweep = flags.get_bool("sweep", "run ring, grid x baseline, UR, ER, UR+ER x --per-mode sizes");
  opt.data = flags.get_list("data", sweep ? "ring,grid" : "ring", "ring, grid or both, comma-separated");
  opt.per_mode =
      flags.get_int_list("per-mode", "points per mode in the training set, 0: unlimited [sweep: 5,50,0; else 0]");
  if (opt.per_mode.empty()) opt.per_mode = sweep ? std::vector<int32_t>{5, 50, 0} : std::vector<int32_t>{0};
  const bool ur = flags.get_bool("ur", "add UR(f_G) + UR(f_D) to G's loss (single setting)");
  const bool er = flags.get_bool("er", "add ER(f_G) + ER(f_D) to G's loss (single setting)");
  opt.ur_weight = static_cast<float>(flags.get_double("ur-weight", kUrWeight, "weight of UR(f_G) + UR(f_D)"));
  opt.er_weight = static_cast<float>(flags.get_double("er-weight", kErWeight, "weight of ER(f_G) + ER(f_D)"));
  opt.seeds = flags.get_int("seeds", 5, "runs per setting, seeds 1..N");
  opt.steps = flags.get_int("steps", 6000, "training steps per run (one D and one G update each)");
  opt.gan.batch = flags.get_int("batch", 64, "batch size");
  opt.gan.lr = static_cast<float>(flags.get_double("lr", 5e-4, "Adam learning rate of G and D (betas 0.5, 0.999)"));
  opt.gan.z_dim = flags.get_int("z-dim", 2, "noise dimensions");
  opt.gan.hidden = flags.get_int("hidden", 128, "units per hidden layer of G and D");
  opt.gan.layers = flags.get_int("layers", 3, "hidden layers of G and D");
  opt.gan.loss = parse_gan_loss(flags.get("loss", "bce", "bce (non-saturating) or hinge"));
  opt.samples = flags.get_int("samples", 2500, "generated points the metrics are computed on");
  opt.info_batches = flags.get_int("info-batches", 16, "held-out batches for the feature information");
  // A 128-wide MLP step is too small to split: on a 2-core Xeon one thread ran 3x faster than two.
  threads = flags.get_int("threads", 1, "CPU threads");
  out = flags.get("out", "runs/toy2d", "run directory");
  flags.finish();

  for (const std::string& d : opt.data) make_toy_mixture(d);  // names the bad value
  for (int32_t n : opt.per_mode) CFGAN_CHECK(n >= 0, "--per-mode: sizes must be >= 0 (0: unlimited), got ", n);
  CFGAN_CHECK(!(sweep && (ur || er)), "--sweep runs every setting; drop --ur/--er");
  CFGAN_CHECK(opt.seeds >= 1, "--seeds: must be >= 1, got ", opt.seeds);
  CFGAN_CHECK(opt.steps >= 1, "--steps: must be >= 1, got ", opt.steps);
  CFGAN_CHECK(opt.gan.batch >= 4, "--batch: must be >= 4 (UR splits a batch into halves of >= 2), got ", opt.gan.batch);
  CFGAN_CHECK(opt.gan.lr > 0, "--lr: must be positive, got ", opt.gan.lr);
  CFGAN_CHECK(opt.ur_weight > 0 && opt.er_weight > 0, "--ur-weight and --er-weight must be positive, got ",
              opt.ur_weight, " and ", opt.er_weight);
  CFGAN_CHECK(opt.samples >= 1 && opt.info_batches >= 1, "--samples and --info-batches must be >= 1, got ", opt.samples,
              " and ", opt.info_batches);
  CFGAN_CHECK(threads >= 1, "--threads: must be >= 1, got ", threads);
  if (sweep) {
    opt.settings = {{"baseline"}, {"UR", true, false}, {"ER", false, true}, {"UR+ER", true, true}};
  } else {
    opt.settings = {{ur && er ? "UR+ER" : ur ? "UR" : er ? "ER" : "baseline", ur, er}};
  }
  return opt;
}

int run(int argc, char** argv) {
  std::string command = "toy2d";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  Flags flags(argc, argv, "toy2d", "GANs on 2-D Gaussian mixtures with and without UR / ER");
  std::string out;
  int64_t threads = 1;
  const ToySweep opt = parse(flags, out, threads);
  set_threads(static_cast<int>(threads));
  RunDir run(out, false);
  run.write_config(flags.effective());

  const int64_t runs = static_cast<int64_t>(opt.data.size() * opt.per_mode.size() * opt.settings.size()) * opt.seeds;
  std::printf("toy2d: %ld runs of %ld steps (batch %ld, MLP %ldx%ld, z %ld, %s), %ld threads, writing %s\n",
              static_cast<long>(runs), static_cast<long>(opt.steps), static_cast<long>(opt.gan.batch),
              static_cast<long>(opt.gan.layers), static_cast<long>(opt.gan.hidden), static_cast<long>(opt.gan.z_dim),
              gan_loss_name(opt.gan.loss), static_cast<long>(threads), run.path().c_str());
  std::fflush(stdout);
  ResultsTable table(kToyColumns);
  table.attach_csv(run.file("results.csv"), false);
  Progress progress("step", runs * opt.steps);
  int64_t steps_done = 0;
  std::vector<ToyRunResult> results;
  for (const std::string& data : opt.data) {
    for (int32_t per_mode : opt.per_mode) {
      for (const ToySetting& setting : opt.settings) {
        for (int64_t seed = 1; seed <= opt.seeds; ++seed) {
          results.push_back(train_toy_run(opt, data, per_mode, setting, seed, run, progress, steps_done));
          table.add(toy_result_row(results.back()));
          const ToyRunResult& r = results.back();
          run.append_metrics(nlohmann::json{
              {"data", r.data},
              {"per_mode", r.per_mode},
              {"setting", r.setting},
              {"seed", r.seed},
              {"modes_covered", r.modes.modes_covered},
              {"high_quality", r.modes.high_quality},
              {"kl", r.modes.kl},
              {"diverged_at", r.diverged_at},
              {"seconds",
               r.seconds}}.dump());
        }
      }
    }
  }
  progress.finish(steps_done, "done");
  write_toy_markdown(run.file("results.md"), table, command, progress.elapsed_seconds());
  write_toy_info_plots(run, opt, results);
  std::printf("toy2d: done in %s\n  table:   %s\n  csv:     %s\n  scatter: %s/samples/\n",
              format_duration(progress.elapsed_seconds()).c_str(), run.file("results.md").c_str(),
              run.file("results.csv").c_str(), run.path().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app("toy2d", run, argc, argv); }
