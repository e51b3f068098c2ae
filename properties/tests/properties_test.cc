// Tests of the property macros, the catalog and the JSONL writer.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "properties/properties.h"
#include "properties/report.h"

namespace {

using cairn::props::global_catalog;
using cairn::props::Site;

const Site* find_site(std::string_view message) {
  for (const Site* s : global_catalog().sites()) {
    if (s->message() == message) return s;
  }
  return nullptr;
}

// Never called: its sites must still be catalogued.
[[maybe_unused]] void never_called(int x) {
  SOMETIMES(x > 3, "props test: sometimes in a function that never runs");
  ALWAYS(x >= 0, "props test: always in a function that never runs", {"x", x});
}

nlohmann::json find_jsonl_line(const std::string& jsonl, std::string_view message) {
  std::size_t pos = 0;
  while (pos < jsonl.size()) {
    std::size_t end = jsonl.find('\n', pos);
    nlohmann::json j = nlohmann::json::parse(jsonl.substr(pos, end - pos));
    if (j.contains("antithesis_assert") && j["antithesis_assert"]["message"] == message) {
      return j["antithesis_assert"];
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace

TEST_CASE("a site that never executes is in the catalog with zero evaluations") {
  const Site* s = find_site("props test: sometimes in a function that never runs");
  REQUIRE(s != nullptr);
  CHECK(s->evaluations() == 0);
  CHECK(s->kind() == cairn::props::Kind::sometimes);
  CHECK(s->file() == "properties/tests/properties_test.cc");
  CHECK(s->condition_text() == "x > 3");
}

TEST_CASE("a never-hit SOMETIMES fails the merged report") {
  std::string jsonl;
  cairn::props::write_jsonl(global_catalog(), jsonl);
  cairn::props::ReportMerger merger;
  REQUIRE(merger.add_run(jsonl, "run.jsonl").empty());
  cairn::props::MergedReport report = merger.finish({});
  CHECK_FALSE(report.passed());
  bool found = false;
  for (const auto& p : report.properties) {
    if (p.message == "props test: sometimes in a function that never runs") {
      found = true;
      CHECK(p.status == "never-hit");
    }
  }
  CHECK(found);
  // Listing it (and its never-run sibling) as rare turns the status into "rare".
  cairn::props::MergedReport with_rare =
      merger.finish({"props test: sometimes in a function that never runs"});
  for (const auto& p : with_rare.properties) {
    if (p.message == "props test: sometimes in a function that never runs") CHECK(p.status == "rare");
  }
}

TEST_CASE("a false ALWAYS reaches the handler with its location and details") {
  std::string seen_file;
  unsigned seen_line = 0;
  std::string seen_details;
  auto previous = cairn::props::set_failure_handler(
      [&](const Site& site, std::initializer_list<cairn::props::Detail> details) {
        seen_file = std::string(site.file());
        seen_line = site.line();
        for (const auto& d : details) seen_details += std::string(d.key) + "=" + d.json_value + ";";
      });
  int value = 7;
  const auto failures_before = cairn::props::failure_count();
  // clang-format off
  ALWAYS(value < 5, "props test: value stays below five", {"value", value}, {"where", "here"}); const unsigned line = __LINE__;
  // clang-format on
  cairn::props::set_failure_handler(previous);
  CHECK(seen_file == "properties/tests/properties_test.cc");
  CHECK(seen_line == line);
  CHECK(seen_details == "value=7;where=\"here\";");
  CHECK(cairn::props::failure_count() == failures_before + 1);

  std::string jsonl;
  cairn::props::write_jsonl(global_catalog(), jsonl);
  nlohmann::json a = find_jsonl_line(jsonl, "props test: value stays below five");
  REQUIRE(a.is_object());
  CHECK(a["condition"] == false);
  CHECK(a["hit"] == true);
  CHECK(a["must_hit"] == true);
  CHECK(a["assert_type"] == "always");
  CHECK(a["location"]["begin_line"] == line);
  CHECK(a["details"]["first_violation"]["value"] == 7);
}

TEST_CASE("NEVER, UNREACHABLE and REACHABLE count like their Antithesis counterparts") {
  auto previous = cairn::props::set_failure_handler([](const Site&, auto) {});
  for (int i = 0; i < 3; ++i) {
    NEVER(i == 2, "props test: i is never two");
    REACHABLE("props test: loop body reached");
    if (i == 5) UNREACHABLE("props test: i is never five");
  }
  cairn::props::set_failure_handler(previous);
  const Site* never = find_site("props test: i is never two");
  const Site* reach = find_site("props test: loop body reached");
  const Site* unreach = find_site("props test: i is never five");
  REQUIRE(never);
  REQUIRE(reach);
  REQUIRE(unreach);
  CHECK(never->evaluations() == 3);
  CHECK(never->violation_count() == 1);
  CHECK(reach->evaluations() == 3);
  CHECK(unreach->evaluations() == 0);
  CHECK_FALSE(cairn::props::must_hit(unreach->kind()));
}

TEST_CASE("reset zeroes the per-run counters") {
  for (int i = 0; i < 4; ++i) SOMETIMES(i == 3, "props test: counted then reset");
  const Site* s = find_site("props test: counted then reset");
  REQUIRE(s);
  CHECK(s->evaluations() == 4);
  CHECK(s->true_count() == 1);
  cairn::props::reset();
  CHECK(s->evaluations() == 0);
  CHECK(s->true_count() == 0);
  CHECK(cairn::props::failure_count() == 0);
}

TEST_CASE("a catalog rejects a second site with the same file, line and message") {
  cairn::props::Catalog catalog;
  Site a(cairn::props::Kind::always, "x.cc", 10, 3, "same", "a");
  Site b(cairn::props::Kind::sometimes, "x.cc", 10, 20, "same", "b");
  Site c(cairn::props::Kind::sometimes, "x.cc", 11, 20, "same", "b");
  CHECK(catalog.add(a).empty());
  std::string error = catalog.add(b);
  CHECK(error.find("duplicate property key x.cc:10") != std::string::npos);
  CHECK(catalog.add(c).empty());
  CHECK(catalog.sites().size() == 2);
}
