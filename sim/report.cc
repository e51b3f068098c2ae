#include "sim/report.h"

#include <csignal>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cairn::sim {
namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

nlohmann::json fault_counts_json(const std::array<std::uint64_t, fs::kFaultFamilyCount>& faults) {
  nlohmann::json out = nlohmann::json::object();
  for (int f = 0; f < fs::kFaultFamilyCount; ++f) {
    out[fs::fault_family_name(static_cast<fs::FaultFamily>(f))] = faults[static_cast<std::size_t>(f)];
  }
  return out;
}

std::string result_json(const SeedResult& r, const std::string& replay) {
  const nlohmann::json faults = fault_counts_json(r.faults);
  nlohmann::json j = {{"seed", r.seed},
                      {"passed", r.passed},
                      {"failure", r.failure},
                      {"digest", fmt::format("{:016x}", r.digest)},
                      {"events", r.events},
                      {"fs_ops", r.fs_ops},
                      {"crashes", r.crashes},
                      {"crashes_in_recovery", r.crashes_in_recovery},
                      {"records_acknowledged", r.records_acknowledged},
                      {"sim_time_us", r.sim_time_us},
                      {"faults", faults}};
  if (!r.passed) j["replay"] = replay;
  return j.dump();
}

const char* signal_name(int signal) { return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : ""; }

std::string partial_json(std::size_t seeds_run, std::uint64_t seeds_planned, int signal) {
  const nlohmann::json j = {{"cairn_run",
                             {{"partial", true},
                              {"seeds_run", seeds_run},
                              {"seeds_planned", seeds_planned},
                              {"signal", signal_name(signal)}}}};
  return j.dump();
}

std::string junit_xml(const std::vector<SeedResult>& results, double wall_seconds,
                      const std::vector<std::string>& replays, bool partial) {
  std::size_t failures = 0;
  for (const SeedResult& r : results) failures += r.passed ? 0 : 1;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"cairn-sim\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n",
                     results.size(), failures, wall_seconds);
  if (partial) out += "  <properties><property name=\"partial\" value=\"true\"/></properties>\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const SeedResult& r = results[i];
    out += fmt::format("  <testcase classname=\"cairn-sim\" name=\"seed {}\">", r.seed);
    if (!r.passed) {
      out += fmt::format("<failure message=\"{}\">{}</failure>", xml_escape(r.failure),
                         xml_escape(i < replays.size() ? replays[i] : ""));
    }
    out += "</testcase>\n";
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace cairn::sim
