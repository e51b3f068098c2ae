// The structured trace of one run (private to sim/): each trace line of a SeedResult
// (kept with SeedOptions::trace) as an event with its simulated time, the actor event it
// belongs to, its operation, file and byte range, its fault, the oracle's acknowledged and
// durable watermarks, and the verdict. `--trace-json` writes them one JSON object a line;
// `--html` draws them (sim/trace_page.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/simulation.h"

namespace cairn::sim {

struct TraceEvent {
  std::size_t index = 0;       // 0-based position in the trace
  std::uint64_t time_us = 0;   // simulated time
  std::uint64_t event = 0;     // actor event number (0: start-up, liveness)
  std::string actor;           // the actor of that event: "writer", ..., "start", "liveness"
  std::uint64_t stream = 0;    // the actor event's stream
  std::string kind;            // "fs" | "fault" | "crash" | "power" | "sim" | "failure"
  std::string op;              // fs: pwrite, sync, rename, ...; fault: its family
  std::string file;            // the path it touches ("" when none)
  std::uint64_t byte_pos = 0;  // with has_range: [byte_pos, byte_pos + bytes)
  std::uint64_t bytes = 0;
  bool has_range = false;
  std::string result;          // fs: what the call returned ("" when it says nothing)
  std::vector<std::uint64_t> acknowledged;  // per stream, at the start of the actor event
  std::vector<std::uint64_t> durable;       // per stream, durable prefix at the last recovery
  bool cause = false;          // linked to the failure (a fault, crash, or the failing event's step on a named file)
  std::string text;            // the trace line as printed
};

// The events of a traced run (r.trace and r.marks). The last is the failure, if any.
std::vector<TraceEvent> trace_events(const SeedResult& r);
// One JSON object (one line, no newline).
std::string trace_event_json(const TraceEvent& e);
// The whole trace as JSON lines.
std::string trace_json_lines(const std::vector<TraceEvent>& events);

}  // namespace cairn::sim
