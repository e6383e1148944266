#include "apps/common/loop_flags.h"

#include <cstdio>

#include "engine/error.h"

namespace cfgan {

std::optional<RunDir> declare_resume_flag(Flags& flags) {
  const std::string resume = flags.get("resume", "", "continue the run in this directory from its newest checkpoint");
  if (resume.empty()) return std::nullopt;
  std::optional<RunDir> run;
  run.emplace(resume, true);
  flags.set_defaults(run->read_config());
  return run;
}

TrainingLoopOptions declare_loop_flags(Flags& flags, const std::string& program, int64_t steps) {
  TrainingLoopOptions loop;
  loop.program = program;
  loop.steps = flags.get_int("steps", steps, "total training steps");
  loop.minutes = flags.get_double("minutes", 0, "stop after this many minutes (0: no limit)");
  loop.log_every = flags.get_int("log-every", 10, "steps between metrics.jsonl lines");
  loop.sample_every = flags.get_int("sample-every", 250, "steps between sample grids");
  loop.checkpoint_every = flags.get_int("checkpoint-every", 500, "steps between checkpoints");
  loop.keep = flags.get_int("keep", 3, "checkpoints kept");
  return loop;
}

MatmulPrecision declare_precision_flag(Flags& flags) {
  const MatmulPrecision p = parse_matmul_precision(
      flags.get("precision", "fp32", "matrix products' operands: fp32, tf32 or bf16 (tensor-core formats; FP32 sums)"));
  set_matmul_precision(p);
  return p;
}

void check_loop_flags(const TrainingLoopOptions& loop) {
  CFGAN_CHECK(loop.steps >= 1, "--steps: must be >= 1, got ", loop.steps);
  CFGAN_CHECK(loop.minutes >= 0, "--minutes: must be >= 0, got ", loop.minutes);
  CFGAN_CHECK(loop.log_every >= 1 && loop.sample_every >= 1 && loop.checkpoint_every >= 1 && loop.keep >= 1,
              "--log-every, --sample-every, --checkpoint-every and --keep must be >= 1");
}

int report_outcome(const TrainingOutcome& done, const RunDir& run, const std::string& program,
                   const std::string& samples) {
  if (done.diverged) return 1;
  const char* p = program.c_str();
  if (done.interrupted) {
    std::printf("%s: interrupted at step %ld; checkpoint saved: %s\n  continue with: %s --resume %s\n", p,
                static_cast<long>(done.steps), done.checkpoint.c_str(), p, run.path().c_str());
    return 130;
  }
  std::printf("%s: done, %ld steps\n  samples:    %s (%s)\n  checkpoint: %s\n  loss plot:  %s\n", p,
              static_cast<long>(done.steps), done.samples.c_str(), samples.c_str(), done.checkpoint.c_str(),
              run.file("loss.png").c_str());
  return 0;
}

}  // namespace cfgan
