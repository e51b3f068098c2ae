// The merger: shard reports combine into exactly the report of one run with the same
// events, and the gate fails on never-hit must-hit properties.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <deque>
#include <string>
#include <vector>

#include "properties/properties.h"
#include "properties/report.h"

namespace {

using cairn::props::Catalog;
using cairn::props::Kind;
using cairn::props::MergedReport;
using cairn::props::ReportMerger;
using cairn::props::Site;

struct Event {
  std::size_t site = 0;
  bool value = false;
};

// Applies events to the catalog the way the macros do (without calling the handler).
void apply_events(std::deque<Site>& sites, const std::vector<Event>& events) {
  for (const Event& e : events) {
    Site& s = sites[e.site % sites.size()];
    (void)s.record(e.value);
  }
}

std::string jsonl_of(const Catalog& catalog) {
  std::string out;
  cairn::props::write_jsonl(catalog, out);
  return out;
}

}  // namespace

TEST_CASE("merging N shard reports equals the report of one run with the same events") {
  rc::prop("shards merge to the single-run report", [] {
    const auto kinds = *rc::gen::container<std::vector<int>>(
        *rc::gen::inRange<std::size_t>(1, 8), rc::gen::inRange(0, 6));
    const auto site_ids = *rc::gen::container<std::vector<std::size_t>>(
        rc::gen::inRange<std::size_t>(0, 64));
    const auto values =
        *rc::gen::container<std::vector<bool>>(site_ids.size(), rc::gen::arbitrary<bool>());
    std::vector<Event> events;
    for (std::size_t i = 0; i < site_ids.size(); ++i) events.push_back({site_ids[i], values[i]});
    const std::size_t shard_count = *rc::gen::inRange<std::size_t>(1, 6);
    const auto assignment = *rc::gen::container<std::vector<std::size_t>>(
        events.size(), rc::gen::inRange<std::size_t>(0, shard_count));

    // Sites hold string_views: their messages live in a stable container.
    std::deque<std::string> messages;
    std::deque<Site> sites;
    Catalog catalog;
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      messages.push_back("p" + std::to_string(i));
      sites.emplace_back(static_cast<Kind>(kinds[i]), "shard.cc", static_cast<unsigned>(i + 1),
                         1u, messages.back(), "c");
    }
    for (Site& s : sites) RC_ASSERT(catalog.add(s).empty());

    apply_events(sites, events);
    ReportMerger single;
    RC_ASSERT(single.add_run(jsonl_of(catalog), "single").empty());
    MergedReport one = single.finish({});

    ReportMerger sharded;
    for (std::size_t shard = 0; shard < shard_count; ++shard) {
      catalog.reset();
      std::vector<Event> mine;
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (assignment[i] == shard) mine.push_back(events[i]);
      }
      apply_events(sites, mine);
      RC_ASSERT(sharded.add_run(jsonl_of(catalog), "shard").empty());
    }
    MergedReport many = sharded.finish({});

    RC_ASSERT(many.runs == shard_count);
    RC_ASSERT(many.properties.size() == one.properties.size());
    for (std::size_t i = 0; i < one.properties.size(); ++i) {
      const auto& a = one.properties[i];
      const auto& b = many.properties[i];
      RC_ASSERT(a.id == b.id);
      RC_ASSERT(a.evaluations == b.evaluations);
      RC_ASSERT(a.true_count == b.true_count);
      RC_ASSERT(a.false_count == b.false_count);
      RC_ASSERT(a.status == b.status);
      RC_ASSERT(b.runs_hit <= shard_count);
      RC_ASSERT((b.runs_hit > 0) == (a.evaluations > 0));
    }
    RC_ASSERT(one.passed() == many.passed());
  });
}

TEST_CASE("statuses follow the must-hit rules") {
  std::deque<Site> sites;
  Catalog catalog;
  sites.emplace_back(Kind::always, "s.cc", 1u, 1u, "always never hit", "c");
  sites.emplace_back(Kind::always_or_unreachable, "s.cc", 2u, 1u, "aou never hit", "c");
  sites.emplace_back(Kind::sometimes, "s.cc", 3u, 1u, "sometimes only false", "c");
  sites.emplace_back(Kind::never, "s.cc", 4u, 1u, "never true once", "c");
  sites.emplace_back(Kind::reachable, "s.cc", 5u, 1u, "reachable hit", "c");
  for (Site& s : sites) REQUIRE(catalog.add(s).empty());
  (void)sites[2].record(false);
  (void)sites[3].record(true);
  (void)sites[4].record(true);
  ReportMerger merger;
  REQUIRE(merger.add_run(jsonl_of(catalog), "r").empty());
  MergedReport r = merger.finish({"s.cc:1"});
  REQUIRE(r.properties.size() == 5);
  CHECK(r.properties[0].status == "rare");
  CHECK(r.properties[1].status == "unreached");
  CHECK(r.properties[2].status == "never-hit");
  CHECK(r.properties[3].status == "failed");
  CHECK(r.properties[4].status == "passed");
  CHECK(r.failed == 1);
  CHECK(r.never_hit == 1);
  CHECK_FALSE(r.passed());
}

TEST_CASE("a malformed line is an error naming the file and line") {
  ReportMerger merger;
  std::string error = merger.add_run("{\"antithesis_sdk\":{}}\nnot json\n", "bad.jsonl");
  CHECK(error == "bad.jsonl:2: not a JSON object");
}

TEST_CASE("the rare list ignores comments and blank lines") {
  auto rare = cairn::props::parse_rare_list("# header\n  a message  \n\nfile.cc:12 # why\n");
  REQUIRE(rare.size() == 2);
  CHECK(rare[0] == "a message");
  CHECK(rare[1] == "file.cc:12");
}

namespace {

// A line in the Antithesis SDK's own local-output shape (C++ SDK 0.3: no cairn details).
std::string sdk_line(const std::string& message, const std::string& assert_type, const std::string& display,
                     bool must_hit, bool hit, bool condition) {
  return std::string("{\"antithesis_assert\":{\"assert_type\":\"") + assert_type + "\",\"condition\":" +
         (condition ? "true" : "false") + ",\"details\":{\"n\":3},\"display_type\":\"" + display + "\",\"hit\":" +
         (hit ? "true" : "false") + ",\"id\":\"" + message +
         "\",\"location\":{\"begin_column\":5,\"begin_line\":12,\"class\":\"\",\"file\":\"engine.cc\",\"function\":\"f\"},"
         "\"message\":\"" + message + "\",\"must_hit\":" + (must_hit ? "true" : "false") + "}}\n";
}

}  // namespace

TEST_CASE("the Antithesis SDK's own local output merges: registrations, then one line per reported evaluation") {
  std::string sdk = "{\"antithesis_sdk\":{\"language\":{\"name\":\"C++\",\"version\":\"20\"},\"protocol_version\":\"1.0.0\",\"sdk_version\":\"0.3.1\"}}\n";
  sdk += sdk_line("writes ok", "always", "Always", true, false, false);
  sdk += sdk_line("retry seen", "sometimes", "Sometimes", true, false, false);
  sdk += sdk_line("never here", "reachability", "Unreachable", false, false, false);
  sdk += sdk_line("no stale read", "always", "AlwaysGreaterThan", false, false, false);
  sdk += sdk_line("writes ok", "always", "Always", true, true, true);
  sdk += sdk_line("retry seen", "sometimes", "Sometimes", true, true, false);
  sdk += sdk_line("no stale read", "always", "AlwaysGreaterThan", false, true, false);
  ReportMerger merger;
  REQUIRE(merger.add_run(sdk, "sdk.jsonl").empty());
  const MergedReport r = merger.finish({});
  REQUIRE(r.properties.size() == 4);
  auto find = [&](const std::string& m) {
    for (const auto& p : r.properties) {
      if (p.message == m) return p;
    }
    FAIL("no property " << m);
    return r.properties[0];
  };
  CHECK(find("writes ok").kind == "ALWAYS");
  CHECK(find("writes ok").status == "passed");
  CHECK(find("writes ok").evaluations == 1);
  CHECK(find("retry seen").status == "never-hit");     // evaluated, never true
  CHECK(find("never here").status == "unreached");     // registered, never reached: not a failure
  CHECK(find("no stale read").kind == "ALWAYS_OR_UNREACHABLE");
  CHECK(find("no stale read").status == "failed");     // one false evaluation
  CHECK(r.failed == 1);
  CHECK(r.never_hit == 1);
  CHECK(r.runs == 1);
}

TEST_CASE("a file without property lines, or with per-seed report lines, is refused") {
  ReportMerger merger;
  CHECK(merger.add_run("", "empty.jsonl") == "empty.jsonl: no property lines (antithesis_assert): not a property report");
  CHECK(merger.add_run("{\"antithesis_sdk\":{}}\n", "sdk-only.jsonl") ==
        "sdk-only.jsonl: no property lines (antithesis_assert): not a property report");
  CHECK(merger.add_run("{\"seed\":1,\"passed\":true}\n", "sim.jsonl") ==
        "sim.jsonl:1: not a property line (no antithesis_assert; a per-seed report?)");
  CHECK(merger.finish({}).runs == 0);
}

TEST_CASE("a run marked partial is counted as such") {
  std::deque<Site> sites;
  Catalog catalog;
  sites.emplace_back(Kind::reachable, "s.cc", 1u, 1u, "reached", "c");
  REQUIRE(catalog.add(sites[0]).empty());
  (void)sites[0].record(true);
  ReportMerger merger;
  REQUIRE(merger.add_run(jsonl_of(catalog), "whole").empty());
  REQUIRE(merger.add_run(jsonl_of(catalog) + "{\"cairn_run\":{\"partial\":true}}\n", "cut").empty());
  const MergedReport r = merger.finish({});
  CHECK(r.runs == 2);
  CHECK(r.partial_runs == 1);
  CHECK(r.properties[0].runs_hit == 2);
  CHECK(cairn::props::render_table(r).find("1 of the 2 runs were stopped before their end") != std::string::npos);
}
