// The flags of every training program's loop (engine/run/training_loop.h), declared once:
// --steps --minutes --log-every --sample-every --checkpoint-every --keep.
#pragma once

#include <string>

#include "apps/common/flags.h"
#include "engine/run/training_loop.h"

namespace cfgan {

TrainingLoopOptions declare_loop_flags(Flags& flags, const std::string& program, int64_t steps);

// Checks the values once flags.finish() has run (errors name the flag).
void check_loop_flags(const TrainingLoopOptions& loop);

}  // namespace cfgan
