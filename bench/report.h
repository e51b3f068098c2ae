// The benchmark's report: results.md (every figure with its ratio, the targets of
// issue 12 and whether each is met, by how much when not) and a chart per figure.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace cairn::bench {

// The targets, from the figures in `j` (append, read, recovery, simulator): rows of
// target, measured (words), met.
nlohmann::json targets(const nlohmann::json& j);
std::string markdown(const nlohmann::json& j);
// append.svg, read.svg, recovery.svg, simulator.svg, compression.svg into `dir`.
void write_charts(const nlohmann::json& j, const std::string& dir);

}  // namespace cairn::bench
