// ReportMerger: sums per-property counters across runs and derives a status.
#include "properties/report.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cairn::props {

std::string ReportMerger::add_run(const std::string& jsonl_text, const std::string& source) {
  std::istringstream in(jsonl_text);
  std::string line;
  unsigned line_no = 0;
  std::vector<MergedProperty> run;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return fmt::format("{}:{}: not a JSON object", source, line_no);
    }
    if (j.contains("antithesis_sdk")) continue;
    if (!j.contains("antithesis_assert")) continue;  // other Antithesis events are ignored
    const nlohmann::json& a = j["antithesis_assert"];
    try {
      MergedProperty p;
      p.id = a.at("id").get<std::string>();
      p.message = a.at("message").get<std::string>();
      p.file = a.at("location").at("file").get<std::string>();
      p.line = a.at("location").at("begin_line").get<unsigned>();
      p.assert_type = a.at("assert_type").get<std::string>();
      p.display_type = a.at("display_type").get<std::string>();
      p.must_hit = a.at("must_hit").get<bool>();
      const nlohmann::json& d = a.at("details");
      p.kind = d.at("kind").get<std::string>();
      p.evaluations = d.at("evaluations").get<std::uint64_t>();
      p.true_count = d.at("true").get<std::uint64_t>();
      p.false_count = d.at("false").get<std::uint64_t>();
      p.runs_hit = p.evaluations > 0 ? 1 : 0;
      run.push_back(std::move(p));
    } catch (const nlohmann::json::exception& e) {
      return fmt::format("{}:{}: malformed antithesis_assert: {}", source, line_no, e.what());
    }
  }
  for (MergedProperty& p : run) {
    auto it = std::find_if(acc_.properties.begin(), acc_.properties.end(),
                           [&](const MergedProperty& q) { return q.id == p.id; });
    if (it == acc_.properties.end()) {
      acc_.properties.push_back(std::move(p));
      continue;
    }
    it->evaluations += p.evaluations;
    it->true_count += p.true_count;
    it->false_count += p.false_count;
    it->runs_hit += p.runs_hit;
  }
  ++acc_.runs;
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
  nlohmann::json j = {{"runs", report.runs},         {"passed", report.passed()},
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
