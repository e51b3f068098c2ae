// One seed of an engine under the simulator: the engine's processes on one SimFileSystem,
// a seeded workload of commits, power loss (between commits and at a drawn filesystem
// operation inside one, also inside recovery), process kills, fail-stop after every
// error, clean closes, bit flips at rest when the engine makes a damage promise, and
// after every open the check of the engine's model of what survived (Engine::model;
// sut/kv_model.h by default). Same engine, seed and build: same trace digest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sut/engine.h"

namespace cairn::sut {

struct EngineSeedOptions {
  std::uint64_t seed = 0;
  std::uint64_t events = 120;  // workload events (commits, crashes, kills, closes)
  bool trace = false;          // keep the readable trace
  // Only what POSIX promises: each pending directory operation reverts on its own at a
  // crash and only sync_dir of its parent makes it durable (no journal order, no commit by
  // a file's fsync), and a lost write's size extension may survive as zeros or stale bytes.
  bool posix_fs = false;
};

struct EngineSeedResult {
  std::uint64_t seed = 0;
  bool passed = true;
  std::string failure;              // first failure ("" when passed)
  bool lost_acknowledged = false;   // the failure is acknowledged data the engine lost
  bool damage_detected = false;     // the engine reported damage at rest (the seed ended there)
  std::uint64_t lost_to_damage = 0; // acknowledged commits the engine dropped after damage at rest
  std::uint64_t digest = 0;         // SimFileSystem's trace digest
  std::uint64_t events = 0;
  std::uint64_t commits_attempted = 0;
  std::uint64_t commits_acknowledged = 0;
  std::uint64_t crashes = 0;        // power losses
  std::uint64_t kills = 0;          // process deaths without power loss (also fail-stops)
  std::uint64_t opens = 0;
  std::uint64_t fs_ops = 0;
  std::uint64_t sim_time_us = 0;
  std::string families;             // the fault families this seed enabled, comma-separated
  std::array<std::uint64_t, fs::kFaultFamilyCount> faults{};
  std::vector<std::string> trace;   // when EngineSeedOptions::trace
};

EngineSeedResult run_engine_seed(Engine& engine, const EngineSeedOptions& options);

}  // namespace cairn::sut
