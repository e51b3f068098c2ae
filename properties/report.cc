// ReportMerger: sums per-property counters across runs and derives a status.
#include "properties/report.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cairn::props {

namespace {

// The kind of a property written by the Antithesis SDK itself, which carries no
// cairn-specific details: from its display type, else from assert type and must-hit.
std::string sdk_kind(const std::string& assert_type, const std::string& display_type, bool must_hit) {
  static const std::pair<const char*, const char*> kByDisplay[] = {
      {"Always", "ALWAYS"},       {"AlwaysOrUnreachable", "ALWAYS_OR_UNREACHABLE"},
      {"Sometimes", "SOMETIMES"}, {"Reachable", "REACHABLE"},
      {"Unreachable", "UNREACHABLE"}, {"Never", "NEVER"}};
  for (const auto& [display, kind] : kByDisplay) {
    if (display_type == display) return kind;
  }
  if (assert_type == "always") return must_hit ? "ALWAYS" : "ALWAYS_OR_UNREACHABLE";
  if (assert_type == "sometimes") return "SOMETIMES";
  return must_hit ? "REACHABLE" : "UNREACHABLE";
}

// One antithesis_assert object into `p`. Ours carry the run's totals in details (kind,
// evaluations, true, false); the SDK's own local output has a registration line
// (hit false) and one line per evaluation it reports (hit true, with its condition).
void read_assert(const nlohmann::json& a, MergedProperty& p) {
  p.id = a.at("id").get<std::string>();
  p.message = a.at("message").get<std::string>();
  p.file = a.at("location").at("file").get<std::string>();
  p.line = a.at("location").at("begin_line").get<unsigned>();
  p.assert_type = a.at("assert_type").get<std::string>();
  p.display_type = a.at("display_type").get<std::string>();
  p.must_hit = a.at("must_hit").get<bool>();
  const nlohmann::json details = a.value("details", nlohmann::json::object());
  if (details.is_object() && details.contains("kind") && details.contains("evaluations")) {
    p.kind = details.at("kind").get<std::string>();
    p.evaluations = details.at("evaluations").get<std::uint64_t>();
    p.true_count = details.at("true").get<std::uint64_t>();
    p.false_count = details.at("false").get<std::uint64_t>();
    return;
  }
  p.kind = sdk_kind(p.assert_type, p.display_type, p.must_hit);
  if (!a.at("hit").get<bool>()) return;
  p.evaluations = 1;
  (a.at("condition").get<bool>() ? p.true_count : p.false_count) = 1;
}

// Adds `p` to `into`: a property already there (same id) takes its counts.
void accumulate(std::vector<MergedProperty>& into, MergedProperty p) {
  auto it = std::find_if(into.begin(), into.end(), [&](const MergedProperty& q) { return q.id == p.id; });
  if (it == into.end()) {
    into.push_back(std::move(p));
    return;
  }
  it->evaluations += p.evaluations;
  it->true_count += p.true_count;
  it->false_count += p.false_count;
  it->runs_hit += p.runs_hit;
}

}  // namespace

std::string ReportMerger::add_run(const std::string& jsonl_text, const std::string& source) {
  std::istringstream in(jsonl_text);
  std::string line;
  unsigned line_no = 0;
  std::vector<MergedProperty> run;
  bool partial = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return fmt::format("{}:{}: not a JSON object", source, line_no);
    if (j.contains("cairn_run")) {
      partial = partial || j["cairn_run"].value("partial", false);
      continue;
    }
    if (!j.contains("antithesis_assert")) {
      const bool antithesis = !j.empty() && j.begin().key().rfind("antithesis_", 0) == 0;
      if (antithesis) continue;  // antithesis_sdk, antithesis_setup, ...: not properties
      return fmt::format("{}:{}: not a property line (no antithesis_assert; a per-seed report?)", source, line_no);
    }
    try {
      MergedProperty p;
      read_assert(j["antithesis_assert"], p);
      accumulate(run, std::move(p));
    } catch (const nlohmann::json::exception& e) {
      return fmt::format("{}:{}: malformed antithesis_assert: {}", source, line_no, e.what());
    }
  }
  if (run.empty()) return fmt::format("{}: no property lines (antithesis_assert): not a property report", source);
  for (MergedProperty& p : run) {
    p.runs_hit = p.evaluations > 0 ? 1 : 0;
    accumulate(acc_.properties, std::move(p));
  }
  ++acc_.runs;
  if (partial) ++acc_.partial_runs;
  return {};
}

namespace {

bool listed(const MergedProperty& p, const std::vector<std::string>& rare) {
  std::string where = fmt::format("{}:{}", p.file, p.line);
  return std::any_of(rare.begin(), rare.end(), [&](const std::string& r) {
    return r == p.id || r == p.message || r == where;
  });
}

std::string status_of(const MergedProperty& p, const std::vector<std::string>& rare) {
  const std::string& k = p.kind;
  if ((k == "ALWAYS" || k == "ALWAYS_OR_UNREACHABLE") && p.false_count > 0) return "failed";
  if (k == "NEVER" && p.true_count > 0) return "failed";
  if (k == "UNREACHABLE" && p.evaluations > 0) return "failed";
  bool satisfied = k == "SOMETIMES" ? p.true_count > 0 : p.evaluations > 0;
  if (p.must_hit && !satisfied) return listed(p, rare) ? "rare" : "never-hit";
  if (!p.must_hit && p.evaluations == 0) return "unreached";
  return "passed";
}

}  // namespace

MergedReport ReportMerger::finish(const std::vector<std::string>& rare) const {
  MergedReport r = acc_;
  std::sort(r.properties.begin(), r.properties.end(),
            [](const MergedProperty& a, const MergedProperty& b) {
              return std::tie(a.file, a.line, a.message) < std::tie(b.file, b.line, b.message);
            });
  for (MergedProperty& p : r.properties) {
    p.status = status_of(p, rare);
    if (p.status == "failed") ++r.failed;
    if (p.status == "never-hit") ++r.never_hit;
  }
  return r;
}

std::string render_table(const MergedReport& report) {
  std::string out = fmt::format("{:<60} {:<22} {:>12} {:>9}  {}\n", "property", "kind", "hits",
                                "runs hit", "status");
  for (const MergedProperty& p : report.properties) {
    std::string name = p.message.size() > 60 ? p.message.substr(0, 57) + "..." : p.message;
    out += fmt::format("{:<60} {:<22} {:>12} {:>4}/{:<4}  {}\n", name, p.kind, p.evaluations,
                       p.runs_hit, report.runs, p.status);
  }
  if (report.partial_runs > 0) {
    out += fmt::format("{} of the {} runs were stopped before their end (partial)\n", report.partial_runs, report.runs);
  }
  out += fmt::format("{} properties over {} runs: {} failed, {} never hit -> {}\n",
                     report.properties.size(), report.runs, report.failed, report.never_hit,
                     report.passed() ? "PASS" : "FAIL");
  return out;
}

std::string render_json(const MergedReport& report) {
  nlohmann::json props = nlohmann::json::array();
  for (const MergedProperty& p : report.properties) {
    props.push_back({{"id", p.id}, {"message", p.message}, {"file", p.file}, {"line", p.line},
                     {"kind", p.kind}, {"assert_type", p.assert_type},
                     {"display_type", p.display_type}, {"must_hit", p.must_hit},
                     {"evaluations", p.evaluations}, {"true", p.true_count},
                     {"false", p.false_count}, {"runs_hit", p.runs_hit}, {"status", p.status}});
  }
  nlohmann::json j = {{"runs", report.runs},         {"partial_runs", report.partial_runs}, {"passed", report.passed()},
                      {"failed", report.failed},     {"never_hit", report.never_hit},
                      {"properties", props}};
  return j.dump(2) + "\n";
}

std::vector<std::string> parse_rare_list(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    auto b = line.find_first_not_of(" \t\r");
    auto e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos) continue;
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

}  // namespace cairn::props
