// Shrinking a failing run (private to sim/): the smallest decision tape found that still
// fails the same oracle check (sim/tape_file.h, failure_check), not merely any check.
//
// The order and the passes follow Hypothesis's reducer (MacIver and Donaldson, ECOOP 2020,
// cited in simfs/decision_tape.h), with the order set by what a person reads: a candidate
// is better when fewer actor events act, then when it injects fewer faults, then when its
// run (--ops) and its tape are shorter, then when its tape is smaller lexicographically.
// Passes, repeated until a round changes nothing or the budget runs out:
//   1. delete actor events (their choices, and one from --ops each), 16, 4, then 1 at a
//      time from the end: later events read other choices, a jump to a shorter run;
//   2. zero the choices of one actor event;
//   3. zero blocks of 64, then 8 choices, then single choices (faults off, first options);
//   4. lower single choices by binary search (smaller sizes, fewer streams, lower rates).
// Last, one run past any budget: every payload and garbage byte zeroed at once (a tape
// that is smaller to keep; earlier, it steers the search into worse places: 170 -> 170
// events instead of 170 -> 17 for one canary).
// (Skipping an event while keeping later events' choices in place was tried: an event's
// choices are interleaved with the fault and latency draws of the filesystem calls it
// makes, and it shrank less than deletion, 170 -> 59 events against 170 -> 1.)
// Choices over the whole 64-bit range (payload and garbage bytes) are otherwise only zeroed
// with their event: lowering them one by one changes nothing a person reads.
// The shrinker is deterministic for a given run limit; the wall-clock budget is the
// caller's (a callback), so the same budget on a slower machine may stop earlier.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/simulation.h"

namespace cairn::sim {

struct ShrinkProgress {
  std::uint64_t runs = 0;
  std::uint64_t accepted = 0;
  std::uint64_t events = 0;   // actor events of the best tape so far
  std::size_t choices = 0;    // its length
  std::uint64_t faults = 0;   // faults injected by it
  const char* pass = "";
};

struct ShrinkOptions {
  SeedOptions base;                            // seed, events, canary, overrides; tape and trace are set per run
  std::vector<std::uint64_t> choices;          // a tape that fails
  std::uint64_t max_runs = 0;                  // 0: no limit
  std::function<bool()> out_of_budget;         // checked between runs; may be empty
  std::function<void(const ShrinkProgress&)> progress;  // after every accepted candidate and every 200 runs
};

struct ShrinkResult {
  bool failed_at_start = false;           // the given tape failed (else nothing was shrunk)
  std::string check;                      // failure_check of the failure kept
  std::vector<std::uint64_t> choices;     // the smallest failing tape found
  std::uint64_t events = 0;               // its --ops
  SeedResult before;                      // the given tape's run
  SeedResult after;                       // the smallest tape's run
  std::uint64_t runs = 0;
  bool stopped_by_budget = false;
};

ShrinkResult shrink(const ShrinkOptions& options);

}  // namespace cairn::sim
