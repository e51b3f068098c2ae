// cairn-sim's decision-tape commands (private to sim/): --tape-out for a single run and
// --shrink.
#pragma once

#include <string>

#include "sim/cli.h"

namespace cairn::sim::cli {

// Runs the single seed (or replayed tape) of `a` again with a recording tape and writes
// the tape to a.tape_out. 0, or 2 when the file could not be written (said on stderr).
int write_run_tape(const Args& a, const std::string& binary);

// --shrink: minimizes the failing seed or tape of `a` within --shrink-budget seconds and
// --shrink-runs runs, writes the smallest tape (a.tape_out, or cairn-sim-shrunk-seed-N.tape)
// and prints its replay line and the figures before and after. Exit status: 1 when a
// shrunk tape was written (it fails), 0 when the run passes (nothing to shrink), 2 when
// the tape could not be written.
int shrink_command(const Args& a, const std::string& binary);

}  // namespace cairn::sim::cli
