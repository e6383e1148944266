#include "apps/common/loop_flags.h"

#include "engine/error.h"

namespace cfgan {

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

void check_loop_flags(const TrainingLoopOptions& loop) {
  CFGAN_CHECK(loop.steps >= 1, "--steps: must be >= 1, got ", loop.steps);
  CFGAN_CHECK(loop.minutes >= 0, "--minutes: must be >= 0, got ", loop.minutes);
  CFGAN_CHECK(loop.log_every >= 1 && loop.sample_every >= 1 && loop.checkpoint_every >= 1 && loop.keep >= 1,
              "--log-every, --sample-every, --checkpoint-every and --keep must be >= 1");
}

}  // namespace cfgan
