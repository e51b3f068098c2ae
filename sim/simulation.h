// One simulated run: the real storage core on SimFileSystem, driven by actors on a
// seeded scheduler, checked by the oracle. Everything is a function of the seed and the
// swarm configuration: same inputs, same trace digest.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/canary.h"
#include "simfs/decision_tape.h"
#include "sim/swarm.h"
#include "simfs/sim_filesystem.h"

namespace cairn::sim {

struct SeedOptions {
  std::uint64_t seed = 0;
  Swarm swarm;
  std::uint64_t events = 400;  // scheduled actor events (the workload length)
  bool trace = false;          // keep the readable trace
  Canary canary = Canary::none;
  // With a tape (not owned), every choice of the run is drawn through it (simfs/
  // decision_tape.h): the swarm is drawn from `seed` through the tape, then `overrides`
  // (key=value, each already accepted by Swarm::set) are applied. A recording tape leaves
  // the run what it is without one.
  DecisionTape* tape = nullptr;
  std::vector<std::string> overrides;
  // Without a tape: replay these values (a tape file) or these bytes (a fuzzer's input),
  // through a tape made for the run.
  std::shared_ptr<const std::vector<std::uint64_t>> replay_values;
  std::shared_ptr<const std::string> replay_bytes;
};

// What a person reads of one actor event: where its trace lines start and what the
// oracle knew when it began (kept with the trace).
struct EventMark {
  std::uint64_t event = 0;        // 1-based actor event number; 0 for start-up and liveness
  std::size_t first_line = 0;     // index into SeedResult::trace
  std::uint64_t time_us = 0;      // simulated time
  std::string actor;              // "writer", "crasher", ...; "start", "liveness"
  std::uint64_t stream = 0;
  std::vector<std::uint64_t> acknowledged;  // per stream: records acknowledged so far
  std::vector<std::uint64_t> durable;       // per stream: durable prefix at the last recovery
};

// The actor's name ("writer", "reader", ...).
const char* actor_name(std::uint8_t actor);

struct SeedResult {
  std::uint64_t seed = 0;
  bool passed = true;
  std::string failure;             // first failure, "" when passed
  std::uint64_t digest = 0;        // trace digest (SimFileSystem::trace_digest: every trace line)
  std::uint64_t events = 0;
  std::uint64_t fs_ops = 0;
  std::uint64_t crashes = 0;
  std::uint64_t crashes_in_recovery = 0;
  std::uint64_t records_acknowledged = 0;
  std::uint64_t sim_time_us = 0;
  std::array<std::uint64_t, fs::kFaultFamilyCount> faults{};
  std::vector<std::string> trace;  // when SeedOptions::trace
  std::vector<EventMark> marks;    // when SeedOptions::trace
};

SeedResult run_seed(const SeedOptions& options);
// The swarm a run of `options` uses: with replayed values or bytes, the one they draw
// (a caller's own tape is not read: its swarm is options.swarm when it records).
Swarm swarm_of(const SeedOptions& options);
// The tape a run of `options` draws through: replaying its values, reading its bytes, or
// (with neither) recording.
DecisionTape tape_for(const SeedOptions& options);
// Faults injected in a run: the sum of SeedResult::faults.
std::uint64_t faults_injected(const SeedResult& r);

// Routes property failures (ALWAYS, NEVER, UNREACHABLE) to the seed running on the
// calling thread, which then fails. Call once at start-up.
void install_property_handler();

}  // namespace cairn::sim
