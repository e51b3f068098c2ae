// The run's page (sim/trace_page.h): the events as JSON inside the page, drawn by the
// page's own script. Nothing is fetched: styles and script are inline.
#include "sim/trace_page.h"

#include <nlohmann/json.hpp>

namespace cairn::sim {
namespace {

constexpr const char* kHead = R"PAGE(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cairn-sim run</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
code, td.text { font-family: ui-monospace, monospace; font-size: 12px; }
.failure { border: 2px solid #c62828; background: #ffebee; padding: .6em 1em; margin: 1em 0; }
.passed { border: 2px solid #2e7d32; background: #e8f5e9; padding: .6em 1em; margin: 1em 0; }
.failure a { margin-right: .8em; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #eee; padding: 1px 6px; text-align: left; vertical-align: top; }
tr.kind-fault td, tr.kind-crash td, tr.kind-power td { background: #ffebee; }
tr.kind-sim td { color: #1a237e; }
tr.kind-failure td { background: #c62828; color: #fff; font-weight: bold; }
tr.cause td:first-child { border-left: 4px solid #ef6c00; }
tr:target td { outline: 2px solid #ef6c00; }
svg { border: 1px solid #ddd; background: #fafafa; }
.lane-label { font: 11px ui-monospace, monospace; fill: #555; }
.mark { cursor: pointer; }
.legend span { margin-right: 1em; }
</style></head>
<body>
<h1 id="title"></h1>
<p>replay: <code id="replay"></code></p>
<div id="verdict"></div>
<p id="summary"></p>
<h2>Timeline</h2>
<p class="legend"><span style="color:#1565c0">&#9632; write</span><span style="color:#2e7d32">&#9679; sync</span>
<span style="color:#c62828">&#9670; fault</span><span style="color:#c62828">| crash / power loss</span>
<span style="color:#6a1b9a">&#9650; recovery</span><span style="color:#ef6c00">| failure</span>
<span>(one column per trace line; click a mark for its row)</span></p>
<div id="timeline-box"></div>
<h2>Watermarks per stream</h2>
<p class="legend"><span>solid: records acknowledged</span><span>dashed: durable prefix at the last recovery</span></p>
<div id="watermark-box"></div>
<h2>Events</h2>
<table id="events"><thead><tr><th>#</th><th>time (&micro;s)</th><th>actor event</th><th>kind</th><th>op</th>
<th>file</th><th>bytes</th><th>line</th></tr></thead><tbody></tbody></table>
<script type="application/json" id="run">)PAGE";

constexpr const char* kScript = R"PAGE(</script>
<script>
(function () {
  "use strict";
  const run = JSON.parse(document.getElementById("run").textContent);
  const ev = run.events;
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const base = (p) => p.slice(p.lastIndexOf("/") + 1);
  const label = (e) => e.kind === "fault" ? e.op + " " + base(e.file) : e.kind === "fs" ? e.op + " " + base(e.file) : e.text.replace(/^\[\d+\] /, "");
  document.title = run.title;
  document.getElementById("title").textContent = run.title;
  document.getElementById("replay").textContent = run.replay;
  const verdict = document.getElementById("verdict");
  if (run.failure) {
    const f = el("div", {id: "failure", class: "failure", "data-check": run.failure});
    f.appendChild(el("strong", {}, "FAILED: " + run.failure));
    const p = el("p", {}, "caused by: ");
    for (const e of ev) {
      if (!e.cause) continue;
      const a = el("a", {href: "#ev-" + e.i}, "#" + e.i + " " + label(e));
      p.appendChild(a);
    }
    f.appendChild(p);
    verdict.appendChild(f);
  } else {
    verdict.appendChild(el("div", {class: "passed", id: "passed"}, "passed"));
  }
  const count = (k) => ev.filter((e) => e.kind === k).length;
  const actorEvents = ev.reduce((m, e) => Math.max(m, e.event), 0);
  document.getElementById("summary").textContent = ev.length + " trace events, " + actorEvents + " actor events, " +
      count("fault") + " faults, " + count("crash") + " crashes";

  // Timeline: a lane for the world, then one per file in order of first use.
  const lanes = ["world"];
  for (const e of ev) if (e.file && (e.kind === "fs" || e.kind === "fault") && !lanes.includes(e.file)) lanes.push(e.file);
  const left = 280, width = 1000, rowH = 16, top = 10;
  const x = (i) => left + (ev.length > 1 ? (i * width) / (ev.length - 1) : 0);
  const y = (lane) => top + lanes.indexOf(lane) * rowH + rowH / 2;
  const svg = el("svg:svg", {id: "timeline", width: left + width + 20, height: top * 2 + lanes.length * rowH});
  lanes.forEach((l, k) => {
    svg.appendChild(el("svg:text", {x: 4, y: top + k * rowH + rowH - 4, class: "lane-label"}, l === "world" ? "world (actors, recovery)" : l));
    svg.appendChild(el("svg:line", {x1: left, x2: left + width, y1: y(l), y2: y(l), stroke: "#e0e0e0"}));
  });
  const H = top * 2 + lanes.length * rowH;
  const mark = (e, shape) => {
    shape.setAttribute("class", "mark kind-" + e.kind);
    shape.setAttribute("data-i", e.i);
    shape.appendChild(el("svg:title", {}, e.text));
    shape.addEventListener("click", () => { location.hash = "ev-" + e.i; });
    svg.appendChild(shape);
  };
  for (const e of ev) {
    const X = x(e.i);
    if (e.kind === "crash" || e.kind === "power") {
      mark(e, el("svg:line", {x1: X, x2: X, y1: 0, y2: H, stroke: "#c62828", "stroke-width": 2}));
    } else if (e.kind === "failure") {
      mark(e, el("svg:line", {x1: X, x2: X, y1: 0, y2: H, stroke: "#ef6c00", "stroke-width": 4}));
    } else if (e.kind === "fault") {
      const Y = y(e.file && lanes.includes(e.file) ? e.file : "world");
      mark(e, el("svg:path", {d: `M${X} ${Y - 6} L${X + 6} ${Y} L${X} ${Y + 6} L${X - 6} ${Y} Z`, fill: "#c62828"}));
    } else if (e.kind === "fs" && (e.op === "pwrite" || e.op === "truncate")) {
      mark(e, el("svg:rect", {x: X - 1.5, y: y(e.file) - 5, width: 3, height: 10, fill: "#1565c0"}));
    } else if (e.kind === "fs" && (e.op === "sync" || e.op === "sync_dir") && lanes.includes(e.file)) {
      mark(e, el("svg:circle", {cx: X, cy: y(e.file), r: 3.5, fill: "#2e7d32"}));
    } else if (e.kind === "sim" && /recover|finding|repair|torn tail|damage/.test(e.text)) {
      const Y = y("world");
      mark(e, el("svg:path", {d: `M${X} ${Y - 6} L${X + 5} ${Y + 4} L${X - 5} ${Y + 4} Z`, fill: "#6a1b9a"}));
    } else if (e.kind === "sim" && /append stream/.test(e.text)) {
      mark(e, el("svg:rect", {x: X - 1, y: y("world") - 3, width: 2, height: 6, fill: "#90a4ae"}));
    }
  }
  document.getElementById("timeline-box").appendChild(svg);

  // Watermarks: per stream, acknowledged (solid) and durable (dashed) over the trace.
  const streams = ev.reduce((m, e) => Math.max(m, e.acknowledged.length), 0);
  const top2 = ev.reduce((m, e) => Math.max(m, ...e.acknowledged, ...e.durable, 1), 1);
  const wh = 160;
  const wsvg = el("svg:svg", {id: "watermarks", width: left + width + 20, height: wh + 20});
  const colors = ["#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
  for (let s = 0; s < streams; ++s) {
    for (const [field, dash] of [["acknowledged", ""], ["durable", "4 3"]]) {
      const pts = ev.map((e) => `${x(e.i)},${10 + wh - ((e[field][s] || 0) * wh) / top2}`).join(" ");
      wsvg.appendChild(el("svg:polyline", {points: pts, fill: "none", stroke: colors[s % colors.length], "stroke-dasharray": dash}));
    }
    wsvg.appendChild(el("svg:text", {x: 4, y: 20 + s * 14, class: "lane-label", fill: colors[s % colors.length]}, "stream " + s));
  }
  wsvg.appendChild(el("svg:text", {x: 4, y: wh + 14, class: "lane-label"}, "0 .. " + top2 + " records"));
  document.getElementById("watermark-box").appendChild(wsvg);

  // The table: every event, causes marked, the failure last.
  const body = document.querySelector("#events tbody");
  for (const e of ev) {
    const tr = el("tr", {id: "ev-" + e.i, class: "event kind-" + e.kind + (e.cause ? " cause" : "")});
    const range = e.bytes ? "[" + e.bytes[0] + ", " + e.bytes[1] + ")" : "";
    const who = e.event ? e.event + " " + e.actor + (e.actor === "writer" || e.actor === "reader" ? " s" + e.stream : "") : e.actor;
    for (const c of [e.i, e.t_us, who, e.kind, e.op, base(e.file || ""), range]) tr.appendChild(el("td", {}, String(c)));
    tr.appendChild(el("td", {class: "text"}, e.text));
    body.appendChild(tr);
  }
  document.body.setAttribute("data-rendered", String(ev.length));
})();
</script>
</body></html>
)PAGE";

// JSON inside a <script> element: "</" would end it early.
std::string script_safe(std::string json) {
  for (std::size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at + 3)) json.replace(at, 2, "<\\/");
  return json;
}

}  // namespace

std::string trace_page(const std::vector<TraceEvent>& events, const PageInfo& info) {
  const nlohmann::json head = {{"title", info.title}, {"replay", info.replay}, {"failure", info.failure}};
  std::string run = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  run.pop_back();  // the closing brace: the events (each already JSON) follow
  run += ",\"events\":[";
  for (std::size_t i = 0; i < events.size(); ++i) run += (i == 0 ? "" : ",") + trace_event_json(events[i]);
  run += "]}";
  return std::string(kHead) + script_safe(std::move(run)) + kScript;
}

}  // namespace cairn::sim
