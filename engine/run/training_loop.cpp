#include "engine/run/training_loop.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/io/plot.h"
#include "engine/run/progress.h"

namespace cfgan {
namespace {

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C stops at once
}

// "nan", "inf", "-inf" or the value: the same words whatever the sign of a NaN.
std::string describe(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

std::string fields_text(const StepScalars& scalars, const std::vector<TrainingLoopOptions::Field>& shown) {
  std::string text;
  for (const auto& f : shown)
    for (const auto& [key, value] : scalars)
      if (key == f.key) {
        char cell[64];
        std::snprintf(cell, sizeof cell, f.format.c_str(), value);
        text += (text.empty() ? "" : "  ") + f.label + " " + cell;
      }
  return text;
}

// Raw curves faint behind their moving averages.
void write_loss_plot(const RunDir& run, const std::vector<std::pair<std::string, std::string>>& plotted) {
  if (plotted.empty()) return;
  std::vector<Series> raw(plotted.size()), smooth;
  std::ifstream in(run.file("metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step")) continue;
    for (size_t k = 0; k < plotted.size(); ++k)
      if (j.contains(plotted[k].first) && j[plotted[k].first].is_number()) {
        raw[k].x.push_back(j["step"].get<double>());
        raw[k].y.push_back(j[plotted[k].first].get<double>());
      }
  }
  for (size_t k = 0; k < plotted.size(); ++k) {
    raw[k].color = palette_color(k);
    raw[k].opacity = 0.25;
    Series avg = raw[k];
    avg.label = plotted[k].second;
    avg.y = moving_average(raw[k].y, std::max<size_t>(1, raw[k].y.size() / 50));
    avg.opacity = 1.0;
    smooth.push_back(avg);
  }
  raw.insert(raw.end(), smooth.begin(), smooth.end());
  write_plot_png(run.file("loss.png"), raw, {.title = "training losses", .x_label = "step", .y_label = "loss"});
}

}  // namespace

TrainingOutcome run_training_loop(TrainingJob& job, RunDir& run, const TrainingLoopOptions& opts) {
  const char* program = opts.program.c_str();
  if (job.steps_done() > 0) {
    const int64_t dropped = run.truncate_metrics(job.steps_done());
    if (dropped > 0)
      std::printf("%s: dropped %ld metrics.jsonl lines past step %ld (written after that checkpoint)\n", program,
                  static_cast<long>(dropped), static_cast<long>(job.steps_done()));
  }
  TrainingOutcome out;
  out.checkpoint = run.latest_checkpoint().value_or("");
  auto save_checkpoint = [&] {
    out.checkpoint = run.checkpoint_path(job.steps_done());
    job.save(out.checkpoint);
    run.keep_newest_checkpoints(opts.keep);
  };

  g_interrupted = false;
  std::signal(SIGINT, on_interrupt);
  Progress progress("step", opts.steps);
  while (job.steps_done() < opts.steps && !g_interrupted) {
    if (opts.minutes > 0 && progress.elapsed_seconds() > opts.minutes * 60) break;
    const StepScalars scalars = job.step();
    const int64_t step = job.steps_done();
    std::map<std::string, float> values(scalars.begin(), scalars.end());
    for (const auto& [key, label] : opts.checked)
      if (values.count(key) && !std::isfinite(values[key])) {
        std::string all;
        for (const auto& [k, l] : opts.checked) all += (all.empty() ? "" : ", ") + l + " " + describe(values[k]);
        std::fprintf(stderr, "\n%s: step %ld: %s is %s (%s); training stopped. %s\n", program, static_cast<long>(step),
                     label.c_str(), describe(values[key]).c_str(), all.c_str(),
                     out.checkpoint.empty() ? "No checkpoint was written yet."
                                            : ("Last good checkpoint: " + out.checkpoint).c_str());
        std::signal(SIGINT, SIG_DFL);
        out.steps = step;
        out.diverged = true;
        return out;
      }
    out.progress = fields_text(scalars, opts.shown);
    if (step % opts.log_every == 0) {
      nlohmann::ordered_json line{{"step", step}};
      for (const auto& [name, value] : scalars) line[name] = value;
      line["seconds"] = progress.elapsed_seconds();
      run.append_metrics(line.dump());
    }
    if (step % opts.sample_every == 0) job.write_samples(run.sample_path(step));
    if (step % opts.checkpoint_every == 0) save_checkpoint();
    const double left = opts.minutes > 0 ? opts.minutes * 60 - progress.elapsed_seconds() : -1.0;
    progress.update(step, out.progress, left);
  }
  progress.finish(job.steps_done(), out.progress);
  std::signal(SIGINT, SIG_DFL);
  out.interrupted = g_interrupted;
  out.steps = job.steps_done();

  if (out.checkpoint != run.checkpoint_path(out.steps)) save_checkpoint();
  out.samples = run.sample_path(out.steps);
  job.write_samples(out.samples);
  write_loss_plot(run, opts.plotted);
  std::ofstream(run.file("summary.txt")) << "steps: " << out.steps << "\nlast losses: " << out.progress
                                         << "\nsample grid: " << out.samples << "\ncheckpoint: " << out.checkpoint
                                         << "\nloss plot: " << run.file("loss.png") << "\n";
  return out;
}

}  // namespace cfgan
