// Grouped bar charts (SVG) of benchmark figures: one group per case (a record size and
// batch, a log size, a codec), one bar per series (a system, a measure), on a log or a
// linear scale, with an optional dashed line for a target.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace cairn::bench {

struct BarChart {
  std::string title;  // says the unit, e.g. "records/s (log scale)"
  std::vector<std::string> groups;
  std::vector<std::string> series;
  std::map<std::string, std::map<std::string, double>> value;  // [group][series]; missing: no bar
  bool log_scale = false;
  std::optional<double> target;  // a horizontal dashed line at this value
  std::string unit;              // in each bar's tooltip
  std::string target_label = "target";
};

std::string bar_svg(const BarChart& chart);

// Append throughput: one group per (record size, batch), one bar per system, log-scaled records/s.
std::string append_svg(const nlohmann::json& append_rows);

}  // namespace cairn::bench
