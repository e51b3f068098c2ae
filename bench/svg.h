// A grouped bar chart (SVG) of append throughput: one group per (record size, batch),
// one bar per system, log-scaled records/s.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace cairn::bench {

std::string append_svg(const nlohmann::json& append_rows);

}  // namespace cairn::bench
