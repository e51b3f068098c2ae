#include "bench/svg.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/peers.h"

namespace cairn::bench {
namespace {

constexpr const char* kColors[] = {"#888888", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};
constexpr std::size_t kColorCount = sizeof(kColors) / sizeof(kColors[0]);
constexpr double kLegendStep = 110;

// The value axis: maps a value to a y coordinate and draws the grid.
struct Axis {
  double top, height, lo, hi;
  bool log;
  double y(double v) const {
    const double f = log ? (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return top + height - height * std::clamp(f, 0.0, 1.0);
  }
};

Axis axis_for(const BarChart& c, double top, double height) {
  double vmax = c.target.value_or(0), vmin = 1e300;
  for (const auto& [g, row] : c.value) {
    for (const auto& [s, v] : row) {
      vmax = std::max(vmax, v);
      if (v > 0) vmin = std::min(vmin, v);
    }
  }
  if (vmax <= 0) vmax = 1;
  if (!c.log_scale) return Axis{top, height, 0, vmax * 1.1, false};
  if (vmin >= 1e300) vmin = vmax / 10;
  // From the decade below the smallest bar to the decade above the largest.
  const double lo = std::pow(10.0, std::floor(std::log10(vmin)));
  double hi = std::pow(10.0, std::ceil(std::log10(vmax)));
  if (hi <= lo) hi = lo * 10;
  return Axis{top, height, lo, hi, true};
}

std::string grid(const Axis& a, double left, double right) {
  std::string s;
  std::vector<double> ticks;
  if (a.log) {
    for (double v = a.lo; v <= a.hi * 1.001; v *= 10) ticks.push_back(v);
  } else {
    for (int i = 0; i <= 4; ++i) ticks.push_back(a.hi * i / 4);
  }
  for (double v : ticks) {
    s += fmt::format("<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>", left, right, a.y(v), a.y(v));
    s += fmt::format("<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 5, a.y(v) + 4,
                     a.log ? fmt::format("{:.0e}", v) : fmt::format("{:.3g}", v));
  }
  return s;
}

}  // namespace

std::string bar_svg(const BarChart& c) {
  const double left = 70, top = 40, height = 300, bar = 14, gap = 24;
  const double group_w = bar * static_cast<double>(c.series.size()) + gap;
  const double width = std::max({left + group_w * static_cast<double>(c.groups.size()) + 20,
                                 left + kLegendStep * static_cast<double>(c.series.size()),
                                 left + 7.5 * static_cast<double>(c.title.size()), 420.0});
  const Axis a = axis_for(c, top, height);
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" font-family=\"sans-serif\" font-size=\"11\">\n",
      width, top + height + 70);
  s += fmt::format("<text x=\"{:.0f}\" y=\"20\" font-size=\"14\">{}</text>\n", left, c.title);
  s += grid(a, left, width - 10);
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    const double x0 = left + gap / 2 + group_w * static_cast<double>(g);
    const auto row = c.value.find(c.groups[g]);
    for (std::size_t k = 0; k < c.series.size() && row != c.value.end(); ++k) {
      const auto v = row->second.find(c.series[k]);
      if (v == row->second.end()) continue;
      const double yv = a.y(v->second);
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {}: {:.4g} {}</title></rect>\n",
          x0 + bar * static_cast<double>(k), yv, bar - 1, top + height - yv, kColors[k % kColorCount], c.series[k], c.groups[g],
          v->second, c.unit);
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>\n",
                     x0 + bar * static_cast<double>(c.series.size()) / 2, top + height + 15, c.groups[g]);
  }
  if (c.target) {
    s += fmt::format("<line x1=\"{:.0f}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#000\" stroke-dasharray=\"6 4\"/>"
                     "<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\">{} {:.3g}</text>\n",
                     left, width - 10, a.y(*c.target), a.y(*c.target), width - 12, a.y(*c.target) - 4, c.target_label, *c.target);
  }
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const double lx = left + kLegendStep * static_cast<double>(k);
    s += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.0f}\" y=\"{:.0f}\">{}</text>\n",
                     lx, top + height + 35, kColors[k % kColorCount], lx + 14, top + height + 44, c.series[k]);
  }
  s += "</svg>\n";
  return s;
}

std::string append_svg(const nlohmann::json& rows) {
  BarChart c;
  c.title = "Append, one durable commit per batch: records/s (log scale)";
  c.series = appender_names();
  c.series.insert(c.series.begin() + 2, "cairn-pipelined");
  c.log_scale = true;
  c.unit = "records/s";
  for (const auto& r : rows) {
    std::string g = fmt::format("{}B x{}", r["record_bytes"].get<std::size_t>(), r["batch"].get<std::size_t>());
    if (std::find(c.groups.begin(), c.groups.end(), g) == c.groups.end()) c.groups.push_back(g);
    c.value[g][r["system"].get<std::string>()] = r["records_per_s"].get<double>();
  }
  return bar_svg(c);
}

}  // namespace cairn::bench
