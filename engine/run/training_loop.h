// The loop every training program runs around its own step: progress line, metrics.jsonl,
// sample pictures and atomic checkpoints at their intervals, a time budget, a clean stop on
// Ctrl-C (checkpoint first) and on a non-finite loss (the last good checkpoint kept), then
// the loss plot and summary.txt. A program supplies the step (TrainingJob); the loop owns
// everything around it, so GANs, VAE-GANs and shift predictors are driven the same way.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/run/run_dir.h"

namespace cfgan {

// Named values a step reports, in the order they are logged.
using StepScalars = std::vector<std::pair<std::string, float>>;

class TrainingJob {
 public:
  virtual ~TrainingJob() = default;
  virtual StepScalars step() = 0;  // one training step
  virtual int64_t steps_done() const = 0;
  virtual void save(const std::string& path) = 0;           // everything --resume needs, atomically
  virtual void write_samples(const std::string& path) = 0;  // a PNG of what the model makes now
};

struct TrainingLoopOptions {
  std::string program{};  // message prefix, e.g. "train_gan"
  int64_t steps = 1;
  double minutes = 0;  // 0: no time budget
  int64_t log_every = 10, sample_every = 250, checkpoint_every = 500, keep = 3;
  // (key, label) of the scalars whose non-finite value stops training, e.g. ("d_loss", "D loss").
  std::vector<std::pair<std::string, std::string>> checked{};
  // Shown on the progress line as "label value" (key, label, printf format).
  struct Field {
    std::string key, label, format;
  };
  std::vector<Field> shown{};
  std::vector<std::pair<std::string, std::string>> plotted{};  // (key, label) curves in loss.png
};

struct TrainingOutcome {
  int64_t steps = 0;
  std::string checkpoint, samples, progress;  // the last checkpoint and grid; the last progress fields
  bool interrupted = false, diverged = false;
};

// Runs `job` until opts.steps, the time budget or Ctrl-C. A resumed job (steps_done() > 0)
// first drops metrics.jsonl lines past its step, which a killed run may have left.
TrainingOutcome run_training_loop(TrainingJob& job, RunDir& run, const TrainingLoopOptions& opts);

}  // namespace cfgan
