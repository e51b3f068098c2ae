// One simulated run: the real storage core on SimFileSystem, driven by actors on a
// seeded scheduler, checked by the oracle. Everything is a function of the seed and the
// swarm configuration: same inputs, same trace digest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/canary.h"
#include "sim/swarm.h"
#include "simfs/sim_filesystem.h"

namespace cairn::sim {

struct SeedOptions {
  std::uint64_t seed = 0;
  Swarm swarm;
  std::uint64_t events = 400;  // scheduled actor events (the workload length)
  bool trace = false;          // keep the readable trace
  Canary canary = Canary::none;
};

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
};

SeedResult run_seed(const SeedOptions& options);

// Routes property failures (ALWAYS, NEVER, UNREACHABLE) to the seed running on the
// calling thread, which then fails. Call once at start-up.
void install_property_handler();

}  // namespace cairn::sim
