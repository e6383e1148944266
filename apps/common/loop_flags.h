// What every training program does around engine/run/training_loop.h, written once:
// --resume, --steps --minutes --log-every --sample-every --checkpoint-every --keep,
// --precision, and the closing lines and exit status.
#pragma once

#include <optional>
#include <string>

#include "apps/common/flags.h"
#include "engine/matmul_precision.h"
#include "engine/run/run_dir.h"
#include "engine/run/training_loop.h"

namespace cfgan {

// --resume DIR: the run to continue, its config.json becoming the flags' defaults (flags
// given now still win). Declare it before every other flag. Empty without --resume.
std::optional<RunDir> declare_resume_flag(Flags& flags);

TrainingLoopOptions declare_loop_flags(Flags& flags, const std::string& program, int64_t steps);

// --precision fp32|tf32|bf16: the operands of every matrix product and convolution
// (engine/matmul_precision.h), set for the process at once.
MatmulPrecision declare_precision_flag(Flags& flags);

// Checks the values once flags.finish() has run (errors name the flag).
void check_loop_flags(const TrainingLoopOptions& loop);

// Prints where the run ended (`samples` says what the sample grid shows) and returns the exit
// status: 0 done, 130 interrupted (with the --resume command), 1 diverged (already reported).
int report_outcome(const TrainingOutcome& done, const RunDir& run, const std::string& program,
                   const std::string& samples);

}  // namespace cfgan
