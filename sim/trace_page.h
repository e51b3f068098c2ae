// A page a person looks at (private to sim/): one self-contained HTML file (no network,
// no other files) drawing a traced run: a timeline lane per file and one for the world,
// with appends, syncs, faults, crashes and recovery findings; the acknowledged and durable
// watermarks per stream over the run; every event in a table; the failing check at the
// top, highlighted, linked to the events that caused it (sim/trace_events.h).
//
// The DOM it builds (what the browser test reads): one `tr.event` per trace event in
// `table#events`; `#failure` (with `data-check`, the failure text) when the run failed;
// `tr.cause` for the linked events; `svg#timeline` with one `.mark` per drawn event.
#pragma once

#include <string>
#include <vector>

#include "sim/trace_events.h"

namespace cairn::sim {

struct PageInfo {
  std::string title;    // e.g. "cairn-sim seed 3 (canary always-no-fsync)"
  std::string replay;   // the replay line
  std::string failure;  // "" when the run passed
};

std::string trace_page(const std::vector<TraceEvent>& events, const PageInfo& info);

}  // namespace cairn::sim
