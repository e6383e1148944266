#include "models/toy2d/sweep.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "engine/error.h"
#include "engine/io/plot.h"

namespace cfgan {
namespace {

std::string size_name(int64_t per_mode) { return per_mode == 0 ? "unlimited" : std::to_string(per_mode); }

// The axes of a scatter plot: a margin around the modes, the same for every run.
double view_half_width(const ToyMixture& m) { return m.name == "ring" ? 1.5 : 5.5; }

void write_scatter(const std::string& path, const ToyMixture& mixture, const ToyData& data, const Tensor& samples,
                   const ToyRunResult& r) {
  const double half = view_half_width(mixture);
  // Invisible corners pin the axes, so plots of the same data set compare at a glance.
  Series frame{.x = {-half, half}, .y = {-half, half}, .style = Series::Style::points, .opacity = 0.0};
  Series centers{
      .label = "mode centers", .color = Rgb{214, 39, 40}, .style = Series::Style::points, .size = 14, .opacity = 0.4};
  for (int64_t k = 0; k < mixture.modes(); ++k) {
    centers.x.push_back(mixture.centers[2 * k]);
    centers.y.push_back(mixture.centers[2 * k + 1]);
  }
  Series generated{
      .label = "generated", .color = palette_color(0), .style = Series::Style::points, .size = 3, .opacity = 0.6};
  // A diverged run's generator has NaN weights: its output means nothing and is not drawn.
  const std::vector<float> xy = r.diverged() ? std::vector<float>{} : samples.to_host();
  int64_t outside = 0;
  for (size_t i = 0; i + 1 < xy.size(); i += 2) {
    if (!(std::abs(xy[i]) <= half && std::abs(xy[i + 1]) <= half)) {
      ++outside;  // also NaN: not drawn, counted in the title
      continue;
    }
    generated.x.push_back(xy[i]);
    generated.y.push_back(xy[i + 1]);
  }
  std::vector<Series> series{frame, centers, generated};
  if (data.training_set().defined()) {
    Series train{.label = "training set", .color = Rgb{0, 0, 0}, .style = Series::Style::points, .size = 4};
    const std::vector<float> t = data.training_set().to_host();
    for (size_t i = 0; i + 1 < t.size(); i += 2) train.x.push_back(t[i]), train.y.push_back(t[i + 1]);
    series.push_back(train);
  }
  char title[200];
  const int head = std::snprintf(title, sizeof title, "%s %s/mode %s seed %ld: ", r.data.c_str(),
                                 size_name(r.per_mode).c_str(), r.setting.c_str(), static_cast<long>(r.seed));
  if (r.diverged()) {
    std::snprintf(title + head, sizeof title - head, "diverged at step %ld", static_cast<long>(r.diverged_at));
  } else {
    std::snprintf(title + head, sizeof title - head, "%ld/%ld modes, HQ %.0f%%, KL %.2f",
                  static_cast<long>(r.modes.modes_covered), static_cast<long>(mixture.modes()),
                  100 * r.modes.high_quality, r.modes.kl);
  }
  const std::string x_label = outside ? "x  (" + std::to_string(outside) + " points outside the view)" : "x";
  write_plot_png(path, series, {.title = title, .x_label = x_label, .y_label = "y", .width = 800, .height = 800});
}

}  // namespace

// One training run, evaluated on fresh noise; the first seed's samples are plotted.
ToyRunResult train_toy_run(const ToySweep& opt, const std::string& data_name, int64_t per_mode,
                           const ToySetting& setting, int64_t seed, const RunDir& run, Progress& progress,
                           int64_t& steps_done) {
  ToyRunResult r{.data = data_name, .setting = setting.name, .per_mode = per_mode, .seed = seed};
  const ToyMixture mixture = make_toy_mixture(data_name);
  ToyData data(mixture, per_mode, static_cast<uint64_t>(seed));
  ToyGanConfig config = opt.gan;
  config.seed = static_cast<uint64_t>(seed);
  config.ur_weight = setting.ur ? opt.ur_weight : 0.0f;
  config.er_weight = setting.er ? opt.er_weight : 0.0f;
  ToyGan gan(config);
  // A run on fresh samples sees steps * batch distinct points: its training-set size.
  r.train_points = per_mode > 0 ? per_mode * mixture.modes() : opt.steps * config.batch;
  const std::string label =
      data_name + " " + size_name(per_mode) + "/mode " + setting.name + " seed " + std::to_string(seed);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 1; step <= opt.steps; ++step) {
    r.last = gan.step(data.next(config.batch));
    r.last_reg = gan.regularization(r.last);
    ++steps_done;
    if (!std::isfinite(r.last.d_loss) || !std::isfinite(r.last.g_loss) || !std::isfinite(r.last_reg)) {
      std::fprintf(stderr, "\ntoy2d: %s: loss turned non-finite at step %ld (D %g, G %g, UR/ER %g); run stopped\n",
                   label.c_str(), static_cast<long>(step), r.last.d_loss, r.last.g_loss, r.last_reg);
      r.diverged_at = step;
      steps_done += opt.steps - step;
      break;
    }
    char fields[160];
    std::snprintf(fields, sizeof fields, "%s  D %.3f  G %.3f  UR/ER %.3f", label.c_str(), r.last.d_loss, r.last.g_loss,
                  r.last_reg);
    progress.update(steps_done, fields);
  }
  r.seconds = seconds_since(start);
  Generator eval(static_cast<uint64_t>(seed) + 7919);  // noise never used in training
  const Tensor samples = gan.sample(opt.samples, eval);
  r.modes = mode_metrics(mixture, samples);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.info = FeatureInfo{nan, nan, nan, nan, nan, nan, nan, nan, nan, nan};
  if (r.diverged()) {
    // A generator with NaN weights is no generator: the engine's ReLU maps NaN to 0, so
    // it can emit one constant point, which on the grid sits on the mode at the origin.
    r.modes = ModeMetrics{.kl = std::log(double(mixture.modes())),
                          .histogram = std::vector<int64_t>(static_cast<size_t>(mixture.modes()), 0)};
  } else {
    r.info = feature_information(gan, opt.info_batches, eval);
  }
  if (seed == 1) {
    write_scatter(run.file("samples/" + data_name + "_" + size_name(per_mode) + "_" + setting.name + ".png"), mixture,
                  data, samples, r);
  }
  return r;
}

// One results.csv row per run; the names are the CSV's header.
ResultsTable::Row toy_result_row(const ToyRunResult& r) {
  return {{"data", r.data},
          {"per_mode", size_name(r.per_mode)},
          {"train_points", cat(r.train_points)},
          {"setting", r.setting},
          {"seed", cat(r.seed)},
          {"modes_covered", cat(r.modes.modes_covered)},
          {"high_quality", cat(r.modes.high_quality)},
          {"kl", cat(r.modes.kl)},
          {"ur_g", cat(r.info.ur_g)},
          {"ur_d", cat(r.info.ur_d)},
          {"er_g", cat(r.info.er_g)},
          {"er_d", cat(r.info.er_d)},
          {"entropy_g", cat(r.info.entropy_g)},
          {"entropy_d", cat(r.info.entropy_d)},
          {"dead_g", cat(r.info.dead_g)},
          {"dead_d", cat(r.info.dead_d)},
          {"log_norm_g", cat(r.info.log_norm_g)},
          {"log_norm_d", cat(r.info.log_norm_d)},
          {"d_loss", cat(r.last.d_loss)},
          {"g_loss", cat(r.last.g_loss)},
          {"diverged_at", cat(r.diverged_at)},
          {"seconds", cat(r.seconds)}};
}

const std::vector<std::string> kToyColumns{
    "data",       "per_mode",   "train_points", "setting", "seed",        "modes_covered", "high_quality", "kl",
    "ur_g",       "ur_d",       "er_g",         "er_d",    "entropy_g",   "entropy_d",     "dead_g",       "dead_d",
    "log_norm_g", "log_norm_d", "d_loss",       "g_loss",  "diverged_at", "seconds"};

void write_toy_markdown(const std::string& path, const ResultsTable& table, const std::string& command,
                        double seconds) {
  using Stat = SummaryColumn::Stat;
  const std::vector<KeyColumn> keys{{"data", "data"}, {"per mode", "per_mode"}, {"setting", "setting"}};
  auto diverged = [](const ResultsTable::Row& r) { return ResultsTable::number(r, "diverged_at") > 0 ? 1.0 : 0.0; };
  std::ofstream out(path);
  out << "# toy2d results\n\n`" << command << "`  \n"
      << format_duration(seconds)
      << "; mean ± std over seeds; HQ: within 3 std of the nearest mode; KL: mode histogram of HQ samples to "
         "uniform;\na diverged run (non-finite loss) counts as 0 modes, 0 % HQ, KL log(modes).\n\n"
      << markdown_summary(table, keys,
                          {{"seeds", {}, 0, Stat::count},
                           {"modes covered", column_value("modes_covered"), 1},
                           {"HQ %", column_value("high_quality", 100), 1},
                           {"KL", column_value("kl"), 3},
                           {"diverged", diverged, 0, Stat::sum}})
      << "\nFeature information on held-out noise (f_G: G's last hidden layer; f_D: D's second hidden layer on "
         "generated points; H: 0.5 log det(Sigma + "
      << kEntropyEps
      << " I) of the L2-normalized features; dead: samples whose feature vector is all zero, left "
         "out of the others; log|f_G|: mean log-norm, ER's unbounded term; diverged runs left out).\n\n"
      << markdown_summary(table, keys,
                          {{"UR(f_G)", column_value("ur_g")},
                           {"UR(f_D)", column_value("ur_d")},
                           {"ER(f_G)", column_value("er_g")},
                           {"ER(f_D)", column_value("er_d")},
                           {"H(f_G)", column_value("entropy_g")},
                           {"H(f_D)", column_value("entropy_d")},
                           {"log\\|f_G\\|", column_value("log_norm_g")},
                           {"dead f_G %", column_value("dead_g", 100), 1}},
                          [&](const ResultsTable::Row& r) { return diverged(r) == 0; });
}

// Per data set: the Gaussian entropy of f_G (lines) and f_D (faint lines) against
// log10 of the training-set size, one colour per setting, seeds as dots, means joined.
void write_toy_info_plots(const RunDir& run, const ToySweep& opt, const std::vector<ToyRunResult>& results) {
  for (const std::string& data : opt.data) {
    std::vector<Series> series;
    for (size_t s = 0; s < opt.settings.size(); ++s) {
      for (bool of_g : {true, false}) {
        const std::string name = opt.settings[s].name + (of_g ? " f_G" : " f_D");
        Series mean_line{
            .label = name, .color = palette_color(s), .size = of_g ? 2.5 : 1.5, .opacity = of_g ? 1.0 : 0.5};
        Series dots{.color = palette_color(s), .style = Series::Style::points, .size = 4, .opacity = 0.35};
        for (int32_t per_mode : opt.per_mode) {
          double sum = 0, x = 0;
          int n = 0;
          for (const ToyRunResult& r : results) {
            if (r.data != data || r.per_mode != per_mode || r.setting != opt.settings[s].name || r.diverged()) continue;
            x = std::log10(double(r.train_points));
            const double y = of_g ? r.info.entropy_g : r.info.entropy_d;
            dots.x.push_back(x), dots.y.push_back(y), sum += y, ++n;
          }
          if (n > 0) mean_line.x.push_back(x), mean_line.y.push_back(sum / n);
        }
        series.push_back(dots);
        series.push_back(mean_line);
      }
    }
    write_plot_png(run.file("info_" + data + ".png"), series,
                   {.title = data + ": feature entropy vs training-set size",
                    .x_label = "log10 training points (unlimited: steps x batch)",
                    .y_label = cat("0.5 log det(Sigma + ", kEntropyEps, " I)")});
  }
}

}  // namespace cfgan
