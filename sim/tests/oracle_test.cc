// The oracle's pieces on their own: byte ranges, the durability model (driven by a real
// store on an observed SimFileSystem), the fault map and the oracle's judgements.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <set>

#include "core/store.h"
#include "sim/durability.h"
#include "sim/fault_map.h"
#include "sim/observed_fs.h"
#include "sim/oracle.h"
#include "sim/proof_rules.h"

using namespace cairn;
using namespace cairn::sim;

namespace {

// A store on SimFileSystem behind an ObservedFileSystem, with the oracle's model.
struct Observed {
  ManualClock clock{1'000'000};
  fs::SimFileSystem sim{fs::SimConfig{}, 11, &clock};
  DurabilityModel model{1u << 30};
  FaultMap faults{sim, model, "/store"};
  ObservedFileSystem observed{sim, {&model, &faults}, [this](const std::string& p) { return sim.visible(p); }};
  Swarm swarm;
  Oracle oracle{swarm, model, faults, sim};

  std::unique_ptr<Store> open(const std::string& sync) {
    Options o;
    o.max_segment_bytes = 4096;
    o.sync = parse_sync_policy(sync).value();
    auto s = Store::open(observed, clock, "/store", o);
    REQUIRE(s.ok());
    return std::move(s).value();
  }
};

}  // namespace

TEST_CASE("RangeSet behaves as a set of bytes") {
  rc::prop("add, remove and intersects agree with a model", [] {
    RangeSet r;
    std::set<std::uint64_t> model;
    const auto ops = *rc::gen::container<std::vector<std::tuple<bool, std::uint8_t, std::uint8_t>>>(
        rc::gen::tuple(rc::gen::arbitrary<bool>(), rc::gen::inRange<std::uint8_t>(0, 64), rc::gen::inRange<std::uint8_t>(0, 64)));
    for (const auto& [add, a, b] : ops) {
      const std::uint64_t from = std::min(a, b), to = std::max(a, b);
      if (add) r.add(from, to); else r.remove(from, to);
      for (std::uint64_t x = from; x < to; ++x) {
        if (add) model.insert(x); else model.erase(x);
      }
    }
    for (std::uint64_t from = 0; from < 64; from += 3) {
      for (std::uint64_t to = from + 1; to <= 64; to += 5) {
        const bool expected = model.lower_bound(from) != model.end() && *model.lower_bound(from) < to;
        RC_ASSERT(r.intersects(from, to) == expected);
      }
    }
  });
}

TEST_CASE("the durability model sees records durable only after the store's fsyncs") {
  Observed w;
  SECTION("sync=always: every acknowledged record is durable when append returns") {
    auto s = w.open("always");
    for (int i = 0; i < 40; ++i) REQUIRE(s->append(1, Bytes(50, static_cast<std::uint8_t>(i))).ok());
    CHECK(w.model.durable_prefix(1) == 40);
    CHECK(w.model.placements(1).size() == 40);
  }
  SECTION("sync=manual: nothing is durable until sync(); then everything") {
    auto s = w.open("manual");
    for (int i = 0; i < 10; ++i) REQUIRE(s->append(1, Bytes(50, 1)).ok());
    CHECK(w.model.durable_prefix(1) == 0);
    REQUIRE(s->sync().ok());
    CHECK(w.model.durable_prefix(1) == 10);
  }
  SECTION("a failed fsync leaves the records not durable, and a later good one does not rescue them") {
    auto s = w.open("manual");
    REQUIRE(s->append(1, Bytes(50, 1)).ok());
    REQUIRE(s->sync().ok());
    REQUIRE(s->append(1, Bytes(50, 2)).ok());
    w.sim.mutable_config().fsync_failures = true;
    w.sim.mutable_config().fsync_failure_ppm = 1'000'000;
    CHECK_FALSE(s->sync().ok());
    w.sim.mutable_config().fsync_failures = false;
    CHECK(w.model.durable_prefix(1) == 1);
    auto f = w.sim.open("/store/" + rules::stream_dir(1) + "/" + rules::segment_name(0), {});
    REQUIRE(f.ok());
    REQUIRE((*f)->sync().ok());  // not through the observer: the model must not care
    CHECK(w.model.durable_prefix(1) == 1);
  }
}

TEST_CASE("the fault map excuses exactly the touched records, until they are forgotten") {
  Observed w;
  auto s = w.open("always");
  for (int i = 0; i < 5; ++i) REQUIRE(s->append(1, Bytes(20, static_cast<std::uint8_t>(i))).ok());
  w.faults.touch(1, 2, Touch{rules::segment_name(0), 200, 88, "bit flip"});
  CHECK(w.faults.touched(1, 2) != nullptr);
  CHECK(w.faults.touched(1, 3) == nullptr);
  CHECK(w.faults.any_touched(1, 0, 3));
  CHECK_FALSE(w.faults.any_touched(1, 3, 5));
  CHECK_FALSE(w.faults.file_touched(1, rules::segment_name(0)));  // a record, not the file
  w.faults.forget(1, 2);
  CHECK_FALSE(w.faults.any_touched(1, 0, 5));
}

TEST_CASE("the oracle flags wrong bytes and unexplained corruption, and accepts explained ones") {
  Observed w;
  AppendResult r{0, 1, std::nullopt};
  w.oracle.append_ok(1, {to_bytes("a"), to_bytes("b")}, r, w.faults.seq());
  std::vector<Record> good = {Record{0, 5, RecordKind::data, to_bytes("a")}, Record{1, 5, RecordKind::data, to_bytes("b")}};
  CHECK(w.oracle.check_read(1, 0, good, false).empty());
  std::vector<Record> wrong = {Record{0, 5, RecordKind::data, to_bytes("x")}};
  CHECK(w.oracle.check_read(1, 0, wrong, false).find("wrong bytes") != std::string::npos);
  std::vector<Record> skipped = {Record{1, 5, RecordKind::data, to_bytes("b")}};
  CHECK_FALSE(w.oracle.check_read(1, 0, skipped, false).empty());
  std::vector<Record> past = {Record{2, 5, RecordKind::data, to_bytes("c")}};
  CHECK(w.oracle.check_read(1, 2, past, false).find("past the acknowledged end") != std::string::npos);
  Error corrupt = make_error(Errc::corruption, "frame CRC32C mismatch");
  corrupt.offset = 1;
  corrupt.segment = rules::segment_name(0);
  CHECK_FALSE(w.oracle.check_read(1, 1, corrupt, false).empty());
  w.faults.touch(1, 4, Touch{rules::segment_name(0), 400, 70, "bit flip"});  // elsewhere: no excuse
  CHECK_FALSE(w.oracle.check_read(1, 1, corrupt, false).empty());
  w.faults.touch(1, 1, Touch{rules::segment_name(0), 100, 70, "bit flip"});
  CHECK(w.oracle.check_read(1, 1, corrupt, false).empty());
  Error eio = make_error(Errc::io_error, "pread EIO");
  CHECK_FALSE(w.oracle.check_read(1, 0, eio, false).empty());
  CHECK(w.oracle.check_read(1, 0, eio, true).empty());  // a read error injected during the call
}

TEST_CASE("the oracle holds the store to its sync policy by what the filesystem saw") {
  Observed w;
  auto s = w.open("manual");
  auto r = s->append(1, Bytes(10, 1));
  REQUIRE(r.ok());
  w.oracle.append_ok(1, {Bytes(10, 1)}, *r, w.faults.seq());
  CHECK(w.oracle.after_append(*s, 1, *r, SyncPolicy{SyncMode::manual, 0, 0}).empty());
  // The same call judged as if the policy were `always`: the record is not durable yet.
  CHECK(w.oracle.after_append(*s, 1, *r, SyncPolicy{SyncMode::always, 0, 0}).find("sync=always") != std::string::npos);
  CHECK(w.oracle.after_sync(*s).find("not durable") != std::string::npos);
  REQUIRE(s->sync().ok());
  CHECK(w.oracle.after_sync(*s).empty());
}

TEST_CASE("the oracle's subtree cache gives the roots of RFC 9162's definition, also after a cut") {
  rc::prop("roots of every size", [] {
    cairn::sim::rules::Chain h;
    const auto count = *rc::gen::inRange<std::size_t>(1, 80);
    const auto cut = *rc::gen::inRange<std::size_t>(0, count + 1);
    std::vector<cairn::sim::rules::Hash> first, second;
    for (std::size_t i = 0; i < count; ++i) {
      first.push_back(h.sha256(cairn::ByteView(reinterpret_cast<const std::uint8_t*>(&i), sizeof(i))));
      second.push_back(i < cut ? first.back() : h.sha256(first.back()));
    }
    cairn::sim::rules::SubtreeCache cache;
    for (const auto& leaf : first) cache.append(h, leaf);
    cache.truncate(cut);  // a recovery re-read the tail: the leaves from `cut` on changed
    for (std::size_t i = cut; i < count; ++i) cache.append(h, second[i]);
    RC_ASSERT(cache.size() == count);
    for (std::size_t n = 0; n <= count; ++n) RC_ASSERT(cache.root(h, n) == cairn::sim::rules::merkle_root(h, second, n));
  });
}
