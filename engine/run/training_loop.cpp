#include "engine/run/training_loop.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/error.h"
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

// A write that fails (a full disk, a read-only or deleted run directory) stops the run with one
// line: the step, the system's reason, and the checkpoint a --resume would start from.
Error stopped_by_write(const std::exception& e, int64_t step, const std::string& checkpoint) {
  std::error_code ec;
  const std::string last = checkpoint.empty()                        ? "no checkpoint was written yet"
                           : std::filesystem::exists(checkpoint, ec) ? "last good checkpoint: " + checkpoint
                                                                     : "its last checkpoint " + checkpoint + " is gone";
  return Error(cat("step ", step, ": ", e.what(), "; training stopped, ", last));
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
    const std::string path = run.checkpoint_path(job.steps_done());
    job.save(path);
    out.checkpoint = path;
    run.keep_newest_checkpoints(opts.keep);
  };
  auto write_failure = [&](const std::exception& e) {
    std::signal(SIGINT, SIG_DFL);
    return stopped_by_write(e, job.steps_done(), out.checkpoint);
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
    try {
      if (step % opts.log_every == 0) {
        nlohmann::ordered_json line{{"step", step}};
        for (const auto& [name, value] : scalars) line[name] = value;
        line["seconds"] = progress.elapsed_seconds();
        run.append_metrics(line.dump());
      }
      if (step % opts.sample_every == 0) job.write_samples(run.sample_path(step));
      if (step % opts.checkpoint_every == 0) save_checkpoint();
    } catch (const std::exception& e) {
      progress.finish(step, out.progress);
      throw write_failure(e);
    }
    const double left = opts.minutes > 0 ? opts.minutes * 60 - progress.elapsed_seconds() : -1.0;
    progress.update(step, out.progress, left);
  }
  progress.finish(job.steps_done(), out.progress);
  std::signal(SIGINT, SIG_DFL);
  out.interrupted = g_interrupted;
  out.steps = job.steps_done();

  try {
    if (out.checkpoint != run.checkpoint_path(out.steps)) save_checkpoint();
    out.samples = run.sample_path(out.steps);
    job.write_samples(out.samples);
    write_loss_plot(run, opts.plotted);
    write_text_file(run.file("summary.txt"), "steps: " + std::to_string(out.steps) + "\nlast losses: " + out.progress +
                                                 "\nsample grid: " + out.samples + "\ncheckpoint: " + out.checkpoint +
                                                 "\nloss plot: " + run.file("loss.png") + "\n");
  } catch (const std::exception& e) {
    throw write_failure(e);
  }
  return out;
}

}  // namespace cfgan
