// Machine-readable sweep reports: one JSON line per seed, and JUnit XML (one testcase
// per seed) for CI dashboards.
#pragma once

#include <string>
#include <vector>

#include "sim/simulation.h"

namespace cairn::sim {

// One JSON object (no newline) describing a seed's result.
std::string result_json(const SeedResult& r, const std::string& replay);
// A JUnit XML document for a sweep.
std::string junit_xml(const std::vector<SeedResult>& results, double wall_seconds,
                      const std::vector<std::string>& replays);

}  // namespace cairn::sim
