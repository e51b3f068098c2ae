// Machine-readable sweep reports: one JSON line per seed, and JUnit XML (one testcase
// per seed) for CI dashboards.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/simulation.h"

namespace cairn::sim {

// {"lost_write": N, ...}: every fault family and how often it was injected.
nlohmann::json fault_counts_json(const std::array<std::uint64_t, fs::kFaultFamilyCount>& faults);
// One JSON object (no newline) describing a seed's result.
std::string result_json(const SeedResult& r, const std::string& replay);
// A JUnit XML document for a sweep; `partial` adds the testsuite property partial=true
// (the sweep stopped before every seed it named had run).
std::string junit_xml(const std::vector<SeedResult>& results, double wall_seconds,
                      const std::vector<std::string>& replays, bool partial = false);
// "SIGINT", "SIGTERM", or "" for any other number.
const char* signal_name(int signal);
// The last line of a --jsonl report cut short: {"cairn_run":{"partial":true,
// "seeds_run":N,"seeds_planned":M,"signal":"SIGTERM"|"SIGINT"|""}} (no newline).
std::string partial_json(std::size_t seeds_run, std::uint64_t seeds_planned, int signal);

}  // namespace cairn::sim
