// A sweep of toy GAN runs (models/toy2d/): each run trained, scored against its mixture
// and written as a results row; the sweep's markdown tables and plots. apps/toy2d is the
// program around it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/run/progress.h"
#include "engine/run/results_table.h"
#include "engine/run/run_dir.h"
#include "models/toy2d/metrics.h"
#include "models/toy2d/networks.h"

namespace cfgan {

struct ToySetting {
  std::string name;
  bool ur = false, er = false;
};

struct ToySweep {
  std::vector<std::string> data;
  std::vector<int32_t> per_mode;
  std::vector<ToySetting> settings;
  int64_t seeds = 0, steps = 0, samples = 0, info_batches = 0;  // set from the flags
  ToyGanConfig gan;
  float ur_weight = 0, er_weight = 0;
};

// Members initialized so designated initialization may leave any out under -Wextra.
struct ToyRunResult {
  std::string data{}, setting{};
  int64_t per_mode = 0, seed = 0, train_points = 0;
  ModeMetrics modes{};
  FeatureInfo info{};
  GanStepStats last{};
  float last_reg = 0;       // the UR / ER part of G's last loss
  int64_t diverged_at = 0;  // the step whose loss was not finite; 0: trained to the end
  bool diverged() const { return diverged_at > 0; }
  double seconds = 0;
};

// One training run, evaluated on fresh noise; seed 1's samples are plotted into the run
// directory's samples/. Advances `progress` through `steps_done`.
ToyRunResult train_toy_run(const ToySweep& sweep, const std::string& data_name, int64_t per_mode,
                           const ToySetting& setting, int64_t seed, const RunDir& run, Progress& progress,
                           int64_t& steps_done);

// results.csv: one row per run, these columns.
extern const std::vector<std::string> kToyColumns;
ResultsTable::Row toy_result_row(const ToyRunResult& r);

// results.md: mode coverage and feature information, mean ± std over seeds.
void write_toy_markdown(const std::string& path, const ResultsTable& table, const std::string& command, double seconds);
// info_<data>.png: feature entropy against training-set size, per setting.
void write_toy_info_plots(const RunDir& run, const ToySweep& sweep, const std::vector<ToyRunResult>& results);

}  // namespace cfgan
