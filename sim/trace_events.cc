// The structured trace (sim/trace_events.h): trace lines parsed back into events. The
// lines are SimFileSystem's and the world's own ("[t] op path @pos +len -> result",
// "[t] FAULT t=..us family path bytes [a, b) detail", "[t] CRASH ...", "[t] sim: ...").
#include "sim/trace_events.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

namespace cairn::sim {
namespace {

bool number_after(const std::string& word, char prefix, std::uint64_t& out) {
  if (word.size() < 2 || word[0] != prefix) return false;
  try {
    std::size_t used = 0;
    out = std::stoull(word.substr(1), &used);
    return used == word.size() - 1;
  } catch (...) {
    return false;
  }
}

// "FAULT t=12us torn_write /store/x bytes [a, b) detail"
void parse_fault(const std::string& rest, TraceEvent& e) {
  std::istringstream in(rest);
  std::string t, family, path, word;
  in >> t >> family >> path;
  e.kind = "fault";
  e.op = family;
  e.file = path;
  const auto open = rest.find("bytes [");
  if (open == std::string::npos) return;
  std::uint64_t a = 0, b = 0;
  if (std::sscanf(rest.c_str() + open, "bytes [%" SCNu64 ", %" SCNu64 ")", &a, &b) == 2 && b >= a) {
    e.byte_pos = a;
    e.bytes = b - a;
    e.has_range = true;
  }
}

// "pwrite /store/x @0 +44 -> 44", "rename /a /b", "sync /x -> EIO"
void parse_fs(const std::string& rest, TraceEvent& e) {
  e.kind = "fs";
  const auto arrow = rest.find(" -> ");
  const std::string call = arrow == std::string::npos ? rest : rest.substr(0, arrow);
  if (arrow != std::string::npos) e.result = rest.substr(arrow + 4);
  std::istringstream in(call);
  std::string word;
  in >> e.op;
  while (in >> word) {
    std::uint64_t v = 0;
    if (number_after(word, '@', v)) {
      e.byte_pos = v;
      e.has_range = true;
    } else if (number_after(word, '+', v)) {
      e.bytes = v;
    } else if (e.file.empty() && word[0] == '/') {
      e.file = word;
    }
  }
}

void classify(const std::string& rest, TraceEvent& e) {
  if (rest.rfind("sim: FAILURE ", 0) == 0) {
    e.kind = "failure";
    e.result = rest.substr(13);
  } else if (rest.rfind("sim: ", 0) == 0) {
    e.kind = "sim";
  } else if (rest.rfind("FAULT ", 0) == 0) {
    parse_fault(rest.substr(6), e);
  } else if (rest.rfind("CRASH", 0) == 0) {
    e.kind = "crash";
  } else if (rest.rfind("POWER OFF", 0) == 0) {
    e.kind = "power";
  } else {
    parse_fs(rest, e);
  }
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Faults, crashes and power losses, and the failing actor event's own steps on the files
// the failure names.
void link_causes(std::vector<TraceEvent>& events, const std::string& failure) {
  if (events.empty() || events.back().kind != "failure") return;
  const std::uint64_t failing = events.back().event;
  for (TraceEvent& e : events) {
    const bool disaster = e.kind == "fault" || e.kind == "crash" || e.kind == "power";
    const bool named = !e.file.empty() && failure.find(base_name(e.file)) != std::string::npos;
    e.cause = disaster || (e.event == failing && (named || e.kind == "sim"));
  }
  events.back().cause = true;
}

}  // namespace

std::vector<TraceEvent> trace_events(const SeedResult& r) {
  std::vector<TraceEvent> out;
  std::size_t m = 0;
  for (std::size_t i = 0; i < r.trace.size(); ++i) {
    while (m + 1 < r.marks.size() && r.marks[m + 1].first_line <= i) ++m;
    TraceEvent e;
    e.index = i;
    e.text = r.trace[i];
    if (!r.marks.empty()) {
      const EventMark& mk = r.marks[m];
      e.event = mk.event;
      e.actor = mk.actor;
      e.stream = mk.stream;
      e.acknowledged = mk.acknowledged;
      e.durable = mk.durable;
    }
    const auto close = e.text.find("] ");
    if (e.text.size() > 1 && e.text[0] == '[' && close != std::string::npos) {
      e.time_us = std::strtoull(e.text.c_str() + 1, nullptr, 10);
      classify(e.text.substr(close + 2), e);
    } else {
      e.kind = "sim";
    }
    out.push_back(std::move(e));
  }
  if (!r.passed && (out.empty() || out.back().kind != "failure")) {  // a failure with no trace line of its own
    TraceEvent e = out.empty() ? TraceEvent{} : out.back();
    e.index = out.size();
    e.kind = "failure";
    e.op = e.file = "";
    e.has_range = false;
    e.result = r.failure;
    e.text = "FAILURE " + r.failure;
    out.push_back(std::move(e));
  }
  link_causes(out, r.failure);
  return out;
}

std::string trace_event_json(const TraceEvent& e) {
  nlohmann::json j = {{"i", e.index},       {"t_us", e.time_us},           {"event", e.event},
                      {"actor", e.actor},   {"stream", e.stream},          {"kind", e.kind},
                      {"op", e.op},         {"file", e.file},              {"result", e.result},
                      {"acknowledged", e.acknowledged}, {"durable", e.durable}, {"cause", e.cause},
                      {"text", e.text}};
  if (e.has_range) j["bytes"] = {e.byte_pos, e.byte_pos + e.bytes};
  j["verdict"] = e.kind == "failure" ? "failed" : "ok";
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string trace_json_lines(const std::vector<TraceEvent>& events) {
  std::string out;
  for (const TraceEvent& e : events) out += trace_event_json(e) + '\n';
  return out;
}

}  // namespace cairn::sim
