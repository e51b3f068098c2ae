// cairn-sim --engine NAME --isolate: each seed in a child process of its own, so an engine
// that aborts (an assertion, a segfault) fails that seed with its replay line instead of
// ending the sweep. POSIX fork from this single-threaded loop (never from a worker thread:
// a lock another thread held, such as the SQLite VFS's, would stay held in the child).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/cli.h"
#include "sut/run.h"

namespace cairn::sim::cli {

// Runs seed a.seed_at(i) for i in 0..a.total through `run`, in a child process each,
// a.jobs children at a time. A child that dies by a signal or exits non-zero gives a failed
// result naming how (passed false, lost_acknowledged false). Results in seed order; fewer
// than a.total when a stop signal or --stop-on-failure cut the sweep short. wall_seconds:
// the sweep's elapsed time.
std::vector<sut::EngineSeedResult> run_isolated(const Args& a, double& wall_seconds,
                                                const std::function<sut::EngineSeedResult(std::uint64_t)>& run);

}  // namespace cairn::sim::cli
