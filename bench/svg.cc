#include "bench/svg.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/peers.h"

namespace cairn::bench {

std::string append_svg(const nlohmann::json& rows) {
  const auto& systems = appender_names();
  const char* colors[] = {"#888888", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e"};
  std::vector<std::string> groups;
  std::map<std::string, std::map<std::string, double>> value;
  double vmax = 1;
  double vmin = 1e300;
  for (const auto& r : rows) {
    std::string g = fmt::format("{}B x{}", r["record_bytes"].get<std::size_t>(), r["batch"].get<std::size_t>());
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    const double v = r["records_per_s"].get<double>();
    value[g][r["system"].get<std::string>()] = v;
    vmax = std::max(vmax, v);
    if (v > 0) vmin = std::min(vmin, v);
  }
  const double left = 70, top = 40, height = 300, bar = 12, gap = 24;
  const double group_w = bar * static_cast<double>(systems.size()) + gap;
  const double width = left + group_w * static_cast<double>(groups.size()) + 20;
  // The axis runs from the decade below the smallest bar to the decade above the largest.
  const double floor_decade = vmin < 1e300 ? std::floor(std::log10(vmin)) : 0;
  const double decades = std::max(1.0, std::ceil(std::log10(vmax)) - floor_decade);
  auto y = [&](double v) {
    const double d = std::log10(std::max(v, 1.0)) - floor_decade;
    return top + height - height * std::max(d, 0.0) / decades;
  };
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" font-family=\"sans-serif\" font-size=\"11\">\n",
                              width, top + height + 70);
  s += fmt::format("<text x=\"{:.0f}\" y=\"20\" font-size=\"14\">Append, one durable commit per batch: records/s (log scale)</text>\n", left);
  for (int d = 0; d <= static_cast<int>(decades); ++d) {
    const double v = std::pow(10.0, floor_decade + d);
    s += fmt::format("<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>", left, width - 10, y(v), y(v));
    s += fmt::format("<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\">{:.0e}</text>\n", left - 5, y(v) + 4, v);
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double x0 = left + gap / 2 + group_w * static_cast<double>(g);
    for (std::size_t k = 0; k < systems.size(); ++k) {
      const double v = value[groups[g]][systems[k]];
      const double yv = y(v);
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {}: {:.0f} records/s</title></rect>\n",
                       x0 + bar * static_cast<double>(k), yv, bar - 1, top + height - yv, colors[k % 5], systems[k], groups[g], v);
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>\n",
                     x0 + bar * static_cast<double>(systems.size()) / 2, top + height + 15, groups[g]);
  }
  for (std::size_t k = 0; k < systems.size(); ++k) {
    const double lx = left + 90 * static_cast<double>(k);
    s += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.0f}\" y=\"{:.0f}\">{}</text>\n",
                     lx, top + height + 35, colors[k % 5], lx + 14, top + height + 44, systems[k]);
  }
  s += "</svg>\n";
  return s;
}

}  // namespace cairn::bench
