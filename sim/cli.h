// cairn-sim's command line (private to sim/): the arguments, how a seed's options and its
// replay lines are made from them, and the sweep that runs seeds on several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/simulation.h"

namespace cairn::sim::cli {

// Workload events per seed of --engine NAME when --ops is not given.
inline constexpr std::uint64_t kEngineEvents = 120;

struct Args {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string seeds;
  std::uint64_t count = 0;
  unsigned jobs = 1;
  std::string shard;
  double time_budget_s = 0;
  bool stop_on_failure = false;
  std::uint64_t ops = 400;
  bool trace = false;
  std::string trace_out;
  std::string jsonl;
  std::string junit;
  std::string properties_out;
  bool check_determinism = false;
  std::string canary;
  bool list_canaries = false;
  bool list_keys = false;
  std::vector<std::string> sets;
  bool print_digest = false;
  bool pin = false;
  // Decision tapes (sim/tape_file.h): --replay FILE runs a tape file (its seed, --ops,
  // --set and --canary come from it) or a fuzzer's input (bytes, seed 0); --tape-out FILE
  // writes the tape of a single seed's run; --shrink minimizes a failing seed or tape.
  std::string replay;
  std::shared_ptr<const std::vector<std::uint64_t>> replay_values;
  std::shared_ptr<const std::string> replay_bytes;
  std::string replay_failure;  // the failure the replayed tape records ("" if none)
  std::string tape_out;
  bool shrink = false;
  double shrink_budget_s = 120;
  std::uint64_t shrink_runs = 0;  // 0: no limit
  std::string trace_json;         // one JSON object per trace event (a folder on a sweep)
  std::string html;               // one self-contained page (a folder on a sweep)
  // --engine NAME: run another engine (engines/registry.h) through the system-under-test
  // harness; "cairn" (the default) is the full simulated world of cairn's store.
  std::string engine = "cairn";
  bool list_engines = false;
  bool expect_loss = false;  // --engine: pass only if some seed loses acknowledged data
  bool posix_fs = false;  // --engine: directory entries as POSIX promises (sut/run.h)
  bool isolate = false;   // --engine: each seed in a child process (an engine's abort fails one seed)
  double progress_every_s = 30;  // a progress line this often when stderr is not a terminal (0: none)
  // Derived by parse(): the seeds of this run (seed i of the shard is lo + shard_k + i * shard_n).
  std::uint64_t lo = 1, hi = 100, shard_k = 0, shard_n = 1, total = 0;
  std::uint64_t seed_at(std::uint64_t i) const { return lo + shard_k + i * shard_n; }
};

// Parses argv. Returns -1 to go on, else the exit status (0 after --help, 2 on a usage
// error, printed).
int parse(int argc, char** argv, Args& a);

// The options of one seed: its swarm with every --set applied. `error` is set (and the
// options are not usable) when a --set is malformed or out of range.
SeedOptions options_for(std::uint64_t seed, const Args& a, std::string& error);
// The flags that change what a seed does (--ops, --set, --canary), for replay lines.
std::vector<std::string> replay_flags(const Args& a);
// "<binary> --seed N <flags>": replays the seed with the swarm derived from it.
std::string replay_line(const std::string& binary, std::uint64_t seed, const Args& a);
// The same with every swarm key set (--set key=value for all): the configuration pinned,
// so a later change to how swarms are derived cannot change what the line tests.
std::string pinned_line(const std::string& binary, std::uint64_t seed, const Args& a);

// Runs every seed of the run on a.jobs threads (progress on a terminal), in seed order.
std::vector<SeedResult> sweep(const Args& a, double& wall_seconds);
// The same for any runner: run_index(i) runs seed a.seed_at(i) and says whether it passed
// (called on a.jobs threads at once). Honours --time-budget, --stop-on-failure and the stop
// signals; the seeds that never started are simply not run.
void for_each_seed(const Args& a, double& wall_seconds, const std::function<bool(std::uint64_t)>& run_index);
// --engine NAME (sim/engine_cli.cc): the seeds run on another engine through the
// system-under-test harness (sut/run.h). Returns the exit status.
int engine_command(const Args& a, const std::string& binary);
// --list-engines: every engine configuration --engine takes.
int list_engines();
// Writes a seed's trace, a line each, to `path`. "" or the path and the reason it failed.
std::string write_trace_file(const std::string& path, const std::vector<std::string>& lines);

// Stop signals: SIGINT and SIGTERM make the sweep start no more seeds (running ones
// finish); a second one ends the process at once (SA_RESETHAND).
void install_stop_signals();
// The signal that stopped the sweep, or 0.
int stop_signal();
// Checks before the run that `path` can be written (opened for append, created if
// missing, never truncated). "" when it can (or path is empty), else the path and errno text.
std::string check_output_path(const std::string& path);
// Creates directory `path` (and its parents) if missing and checks a file can be written
// in it. "" when it can, else the path and the reason.
std::string check_output_dir(const std::string& path);

struct Reported {
  std::size_t passed = 0;        // seeds that passed
  bool reports_written = true;   // false when a report or trace file could not be written
};
// Prints failures, the trace of a single seed, the summary; writes --jsonl/--junit/
// --properties-out, each marked partial when fewer seeds ran than the run named.
Reported report(const std::vector<SeedResult>& ran, const Args& a, const std::string& binary, double wall_seconds);
// Reruns each seed in a second process and compares digests; 0, or 3 on a difference
// (after naming the first trace line that differs).
int determinism_check(const std::vector<SeedResult>& results, const Args& a);

}  // namespace cairn::sim::cli
