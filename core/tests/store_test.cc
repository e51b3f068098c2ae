// Store behaviour on both filesystems (a real temporary directory and SimFileSystem with
// faults off): appends, batches, rotation, checkpoints, sync policies, reopen, time
// reads, purge, verify, errors.
#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "core/format.h"
#include "core/tests/test_env.h"

using namespace cairn;
using cairn::testing::open_store;
using cairn::testing::payload_for;
using cairn::testing::PosixEnv;
using cairn::testing::SimEnv;
using cairn::testing::small_options;

namespace {

template <typename Env>
void append_n(Env& env, Store& store, std::uint64_t stream, std::uint64_t from, std::uint64_t n) {
  for (std::uint64_t i = from; i < from + n; ++i) {
    env.clock.advance_us(10);
    auto r = store.append(stream, payload_for(stream, i));
    REQUIRE(r.ok());
  }
}

// Reads every record of a stream and returns the data payloads in order.
std::vector<Bytes> read_data(Store& store, std::uint64_t stream, std::uint64_t from = 0) {
  std::vector<Bytes> out;
  auto stats = store.stats(stream);
  REQUIRE(stats.ok());
  std::uint64_t at = from;
  while (at < stats->next_offset) {
    auto recs = store.read(stream, at, 1000);
    REQUIRE(recs.ok());
    REQUIRE_FALSE(recs->empty());
    for (Record& r : *recs) {
      REQUIRE(r.offset == at);
      ++at;
      if (r.kind == RecordKind::data) out.push_back(std::move(r.payload));
    }
  }
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("appends read back in order with contiguous offsets", "[store]", PosixEnv, SimEnv) {
  TestType env;
  auto store = open_store(env);
  CHECK(store->recovery_report().clean());
  auto first = store->append(1, to_bytes("hello"));
  REQUIRE(first.ok());
  CHECK(first->first_offset == 0);
  CHECK(first->last_offset == 0);
  auto second = store->append(1, to_bytes("world"));
  REQUIRE(second.ok());
  CHECK(second->first_offset == 1);
  auto recs = store->read(1, 0, 1 << 20);
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == 2);
  CHECK(to_string((*recs)[0].payload) == "hello");
  CHECK(to_string((*recs)[1].payload) == "world");
  CHECK((*recs)[1].offset == 1);
  CHECK((*recs)[0].timestamp_us == 1'000'000);
  CHECK(store->read(1, 2, 100).value().empty());
  CHECK(store->read(9, 0, 100).error().code == Errc::not_found);
}

TEMPLATE_TEST_CASE("a batch gets consecutive offsets and reopen restores the chain head",
                   "[store]", PosixEnv, SimEnv) {
  TestType env;
  {
    auto store = open_store(env);
    std::vector<Bytes> batch;
    for (int i = 0; i < 5; ++i) batch.push_back(payload_for(3, static_cast<std::uint64_t>(i)));
    auto r = store->append(3, batch);
    REQUIRE(r.ok());
    CHECK(r->first_offset == 0);
    CHECK(r->last_offset == 4);
    REQUIRE(store->close().ok());
    CHECK(store->append(3, to_bytes("x")).error().code == Errc::closed);
  }
  auto store = open_store(env);
  CHECK(store->recovery_report().clean());
  auto r = store->append(3, payload_for(3, 5));
  REQUIRE(r.ok());
  CHECK(r->first_offset == 5);
  auto report = store->verify();
  REQUIRE(report.ok());
  CHECK(report->clean());
  auto data = read_data(*store, 3);
  REQUIRE(data.size() == 6);
  for (std::uint64_t i = 0; i < 6; ++i) CHECK(data[i] == payload_for(3, i));
}

TEMPLATE_TEST_CASE("segments rotate at max_segment_bytes and reads cross them", "[store]",
                   PosixEnv, SimEnv) {
  TestType env;
  Options o = small_options();
  o.checkpoint_interval = 0;
  {
    auto store = open_store(env, o);
    append_n(env, *store, 1, 0, 200);
    auto st = store->stats(1);
    REQUIRE(st.ok());
    CHECK(st->segments > 3);
    CHECK(st->next_offset == 200);
    REQUIRE(store->close().ok());
  }
  auto store = open_store(env, o);
  CHECK(store->recovery_report().clean());
  CHECK(store->recovery_report().indexes_rebuilt == 0);
  auto data = read_data(*store, 1);
  REQUIRE(data.size() == 200);
  for (std::uint64_t i = 0; i < 200; ++i) CHECK(data[i] == payload_for(1, i));
  auto mid = store->read(1, 123, 1);
  REQUIRE(mid.ok());
  REQUIRE(mid->size() == 1);
  CHECK((*mid)[0].payload == payload_for(1, 123));
  CHECK(store->verify()->clean());
}

TEMPLATE_TEST_CASE("a batch larger than the free space of a segment rotates first", "[store]",
                   PosixEnv, SimEnv) {
  TestType env;
  Options o = small_options();
  o.checkpoint_interval = 0;
  auto store = open_store(env, o);
  append_n(env, *store, 1, 0, 30);  // about 3 KiB of 4 KiB
  std::vector<Bytes> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(payload_for(1, 30u + static_cast<unsigned>(i)));
  auto r = store->append(1, batch);
  REQUIRE(r.ok());
  CHECK(r->first_offset == 30);
  auto st = store->stats(1);
  CHECK(st->segments == 2);
  auto data = read_data(*store, 1);
  CHECK(data.size() == 50);
}

TEMPLATE_TEST_CASE("checkpoints are written every checkpoint_interval records and carry the chain",
                   "[store]", PosixEnv, SimEnv) {
  TestType env;
  Options o = small_options();
  o.checkpoint_interval = 4;
  auto store = open_store(env, o);
  append_n(env, *store, 1, 0, 10);
  auto all = store->read(1, 0, 1 << 20);
  REQUIRE(all.ok());
  std::vector<std::uint64_t> checkpoints;
  for (const Record& r : *all) {
    if (r.kind == RecordKind::checkpoint) {
      checkpoints.push_back(r.offset);
      auto cp = format::decode_checkpoint(r.payload);
      REQUIRE(cp);
      CHECK(cp->record_count == r.offset);
    }
  }
  CHECK(checkpoints == std::vector<std::uint64_t>{4, 9});
  auto explicit_cp = store->checkpoint(1);
  REQUIRE(explicit_cp.ok());
  CHECK(*explicit_cp == 12);
  // A read from past a checkpoint returns exactly from the requested offset.
  auto tail = store->read(1, 6, 1);
  REQUIRE(tail.ok());
  CHECK((*tail)[0].offset == 6);
  CHECK(store->stats(1)->checkpoints == 3);
}

TEMPLATE_TEST_CASE("sync policies move the durable offset", "[store]", PosixEnv, SimEnv) {
  TestType env;
  SECTION("always") {
    auto store = open_store(env);
    REQUIRE(store->append(1, to_bytes("a")).ok());
    CHECK(store->durable_offset(1).value() == 1);
  }
  SECTION("manual") {
    Options o = small_options();
    o.sync = parse_sync_policy("manual").value();
    auto store = open_store(env, o);
    REQUIRE(store->append(1, to_bytes("a")).ok());
    REQUIRE(store->append(1, to_bytes("b")).ok());
    CHECK(store->durable_offset(1).value() == 0);
    REQUIRE(store->sync().ok());
    CHECK(store->durable_offset(1).value() == 2);
  }
  SECTION("every 3 records") {
    Options o = small_options();
    o.checkpoint_interval = 0;
    o.sync = parse_sync_policy("every:3").value();
    auto store = open_store(env, o);
    REQUIRE(store->append(1, to_bytes("a")).ok());
    REQUIRE(store->append(1, to_bytes("b")).ok());
    CHECK(store->durable_offset(1).value() == 0);
    REQUIRE(store->append(1, to_bytes("c")).ok());
    CHECK(store->durable_offset(1).value() == 3);
  }
  SECTION("every 100 bytes") {
    Options o = small_options();
    o.checkpoint_interval = 0;
    o.sync = parse_sync_policy("every:100b").value();
    auto store = open_store(env, o);
    REQUIRE(store->append(1, to_bytes("a")).ok());  // 69 bytes
    CHECK(store->durable_offset(1).value() == 0);
    REQUIRE(store->append(1, to_bytes("b")).ok());  // 138 bytes
    CHECK(store->durable_offset(1).value() == 2);
  }
}

TEST_CASE("sync policies parse and print", "[store]") {
  CHECK(to_string(parse_sync_policy("every:16").value()) == "every:16");
  CHECK(to_string(parse_sync_policy("every:4096b").value()) == "every:4096b");
  CHECK(to_string(parse_sync_policy("always").value()) == "always");
  CHECK_FALSE(parse_sync_policy("every:0").ok());
  CHECK_FALSE(parse_sync_policy("sometimes").ok());
  CHECK_FALSE(parse_sync_policy("every:").ok());
}

TEMPLATE_TEST_CASE("caller errors are values that lose nothing", "[store]", PosixEnv, SimEnv) {
  TestType env;
  Options o = small_options();
  o.max_record_bytes = 100;
  auto store = open_store(env, o);
  CHECK(store->append(1, std::vector<Bytes>{}).error().code == Errc::invalid_argument);
  auto big = store->append(1, Bytes(101, 'x'));
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::record_too_large);
  REQUIRE(store->append(1, Bytes(100, 'x')).ok());
  CHECK(store->stats(1)->next_offset == 1);
  Options bad = small_options();
  bad.max_segment_bytes = 10;
  CHECK(Store::open(env.fs(), env.clock, env.dir, bad).error().code == Errc::invalid_argument);
  Options missing = small_options();
  missing.create_if_missing = false;
  CHECK(Store::open(env.fs(), env.clock, env.dir + "-nope", missing).error().code == Errc::not_found);
}

TEMPLATE_TEST_CASE("reads by time find the first record at or after a timestamp", "[store]",
                   PosixEnv, SimEnv) {
  TestType env;
  Options o = small_options();
  o.checkpoint_interval = 0;
  auto store = open_store(env, o);
  for (std::uint64_t i = 0; i < 100; ++i) {
    env.clock.set_us(2'000'000 + i * 1000);
    REQUIRE(store->append(1, payload_for(1, i)).ok());
  }
  CHECK(store->offset_for_time(1, 0).value() == 0);
  CHECK(store->offset_for_time(1, 2'000'000 + 57 * 1000).value() == 57);
  CHECK(store->offset_for_time(1, 2'000'000 + 57 * 1000 - 1).value() == 57);
  CHECK(store->offset_for_time(1, 9'000'000).value() == 100);
  auto recs = store->read_by_time(1, 2'000'000 + 80 * 1000, 1);
  REQUIRE(recs.ok());
  CHECK((*recs)[0].payload == payload_for(1, 80));
  // A clock that goes backwards never makes timestamps decrease.
  env.clock.set_us(5);
  REQUIRE(store->append(1, to_bytes("late")).ok());
  CHECK(store->read(1, 100, 1).value()[0].timestamp_us == 2'000'000 + 99 * 1000);
}

TEMPLATE_TEST_CASE("purge removes whole sealed segments, oldest first, never the active one",
                   "[store]", PosixEnv, SimEnv) {
  TestType env;
  Options o = small_options();
  o.checkpoint_interval = 0;
  auto store = open_store(env, o);
  for (std::uint64_t i = 0; i < 200; ++i) {
    env.clock.set_us(1'000'000 + i * 1000);
    REQUIRE(store->append(1, payload_for(1, i)).ok());
  }
  auto before = store->stats(1).value();
  REQUIRE(before.segments >= 4);

  SECTION("by bytes") {
    auto r = store->purge(1, PurgeOptions{std::nullopt, 2 * o.max_segment_bytes});
    REQUIRE(r.ok());
    CHECK(r->segments_removed >= 1);
    auto after = store->stats(1).value();
    CHECK(after.bytes <= 2 * o.max_segment_bytes);
    CHECK(after.first_offset > 0);
    CHECK(after.next_offset == 200);
    CHECK(store->read(1, 0, 10).error().code == Errc::not_found);
    CHECK(store->verify()->clean());
    auto data = read_data(*store, 1, after.first_offset);
    CHECK(data.front() == payload_for(1, after.first_offset));
  }
  SECTION("by age") {
    env.clock.set_us(1'000'000 + 199 * 1000);
    auto r = store->purge(1, PurgeOptions{100 * 1000, std::nullopt});
    REQUIRE(r.ok());
    CHECK(r->segments_removed >= 1);
    auto after = store->stats(1).value();
    CHECK(after.first_offset <= 100);
    CHECK(after.first_offset > 0);
  }
  SECTION("everything: the active segment stays") {
    auto r = store->purge(1, PurgeOptions{std::nullopt, 0});
    REQUIRE(r.ok());
    auto after = store->stats(1).value();
    CHECK(after.segments == 1);
    CHECK(after.next_offset == 200);
    REQUIRE(store->append(1, payload_for(1, 200)).ok());
    CHECK(store->verify()->clean());
  }
  REQUIRE(store->close().ok());
  auto reopened = open_store(env, o);
  CHECK(reopened->recovery_report().clean());
  CHECK(reopened->verify()->clean());
}

TEMPLATE_TEST_CASE("many streams are independent", "[store]", PosixEnv, SimEnv) {
  TestType env;
  {
    auto store = open_store(env);
    for (std::uint64_t i = 0; i < 30; ++i) {
      REQUIRE(store->append(i % 3, payload_for(i % 3, i / 3)).ok());
    }
    CHECK(store->streams() == std::vector<std::uint64_t>{0, 1, 2});
  }
  auto store = open_store(env);
  for (std::uint64_t s = 0; s < 3; ++s) {
    auto data = read_data(*store, s);
    REQUIRE(data.size() == 10);
    CHECK(data[9] == payload_for(s, 9));
  }
}

TEST_CASE("a failed fsync makes the store fail-stop until it is reopened", "[store]") {
  SimEnv env;
  auto store = open_store(env);
  REQUIRE(store->append(1, to_bytes("durable")).ok());
  env.sim.mutable_config().fsync_failures = true;
  env.sim.mutable_config().fsync_failure_ppm = 1'000'000;
  auto failed = store->append(1, to_bytes("indeterminate"));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == Errc::io_error);
  CHECK(store->fail_stopped());
  env.sim.mutable_config().fsync_failures = false;
  auto refused = store->append(1, to_bytes("later"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::fail_stopped);
  CHECK(store->sync().error().code == Errc::fail_stopped);
  CHECK(store->read(1, 0, 10).value()[0].payload == to_bytes("durable"));
  // The failed append was never acknowledged: reads do not serve it (found by the
  // simulator's oracle, which knows what was acknowledged).
  auto all = store->read(1, 0, 1 << 20);
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
  CHECK(store->read(1, 1, 1 << 20)->empty());
  store.reset();
  auto reopened = open_store(env);
  CHECK_FALSE(reopened->fail_stopped());
  REQUIRE(reopened->append(1, to_bytes("after")).ok());
  CHECK(reopened->read(1, 0, 10).value()[0].payload == to_bytes("durable"));
}

TEST_CASE("a write error cuts the file back and loses nothing acknowledged", "[store]") {
  SimEnv env;
  auto store = open_store(env);
  REQUIRE(store->append(1, to_bytes("one")).ok());
  env.sim.mutable_config().write_errors = true;
  env.sim.mutable_config().write_error_ppm = 1'000'000;
  auto failed = store->append(1, Bytes(3000, 'x'));
  REQUIRE_FALSE(failed.ok());
  CHECK((failed.error().code == Errc::no_space || failed.error().code == Errc::io_error));
  CHECK(failed.error().stream == 1u);
  env.sim.mutable_config().write_errors = false;
  CHECK_FALSE(store->fail_stopped());
  auto next = store->append(1, to_bytes("two"));
  REQUIRE(next.ok());
  CHECK(next->first_offset == 1);
  store.reset();
  env.sim.crash();
  auto reopened = open_store(env);
  CHECK(reopened->recovery_report().damage.empty());
  auto data = read_data(*reopened, 1);
  REQUIRE(data.size() == 2);
  CHECK(data[1] == to_bytes("two"));
}

TEST_CASE("copies and metadata are read back before they are renamed into place", "[store]") {
  // Found by the simulator: a misdirected write inside the copy open makes of the active
  // segment (after a failed fsync) went unnoticed, and the damaged copy replaced the file.
  SimEnv env;
  REQUIRE(env.sim.mkdir("/d").ok());
  env.sim.mutable_config().misdirected_writes = true;
  env.sim.mutable_config().misdirected_write_ppm = 1'000'000;
  Status st = replace_file_atomically(env.sim, "/d", "meta", Bytes(100, 7));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::io_error);
  CHECK(st.error().message.find("read back") != std::string::npos);
  CHECK_FALSE(env.sim.exists("/d/meta").value());  // never renamed into place
  env.sim.mutable_config().misdirected_writes = false;
  CHECK(replace_file_atomically(env.sim, "/d", "meta", Bytes(100, 7)).ok());
  CHECK(env.sim.current_contents("/d/meta").value() == Bytes(100, 7));
}

TEST_CASE("a file whose create a failed directory fsync lost is never reused: its copy becomes durable", "[store]") {
  // A staged file whose directory entry a failed fsync loses for good: the process still
  // sees it, no later sync_dir writes it. Which seed loses it is drawn: take the first.
  std::unique_ptr<fs::SimFileSystem> sim;
  for (std::uint64_t seed = 1; seed < 64 && !sim; ++seed) {
    auto candidate = std::make_unique<fs::SimFileSystem>(fs::SimConfig{}, seed);
    REQUIRE(candidate->mkdir("/d").ok());
    REQUIRE(candidate->sync_dir("/").ok());
    REQUIRE(fs::write_all(**candidate->open("/d/x.staged", fs::OpenOptions{.create = true}), 0, Bytes(10, 1)).ok());
    candidate->mutable_config().fsync_failures = true;
    candidate->mutable_config().fsync_failure_ppm = 1'000'000;
    REQUIRE_FALSE(candidate->sync_dir("/d").ok());
    candidate->mutable_config().fsync_failures = false;
    if (candidate->fault_log().back().detail == "directory ops kept/lost: L") sim = std::move(candidate);
  }
  REQUIRE(sim);
  REQUIRE(sim->exists("/d/x.staged").value());
  auto fresh = create_fresh(*sim, "/d/x.staged");
  REQUIRE(fresh.ok());
  REQUIRE(fs::write_all(**fresh, 0, Bytes(20, 2)).ok());
  REQUIRE((*fresh)->sync().ok());
  REQUIRE(sim->sync_dir("/d").ok());
  REQUIRE(sim->rename("/d/x.staged", "/d/x").ok());
  REQUIRE(sim->sync_dir("/d").ok());
  sim->crash();
  REQUIRE(sim->exists("/d/x").value());
  CHECK(sim->current_contents("/d/x").value() == Bytes(20, 2));
}

TEST_CASE("sealed segment files stay open in an LRU cache of max_open_sealed_files", "[store]") {
  SimEnv env;
  Options o = small_options();
  o.checkpoint_interval = 0;
  o.max_open_sealed_files = 2;
  {
    auto store = open_store(env, o);
    append_n(env, *store, 1, 0, 200);
    REQUIRE(store->stats(1)->segments > 4);
    REQUIRE(store->close().ok());
  }
  auto store = open_store(env, o);
  env.sim.set_trace(true);
  // Opens of segment files since the trace began.
  auto log_opens = [&] {
    std::size_t n = 0;
    for (const std::string& line : env.sim.trace()) n += line.find("] open ") != std::string::npos && line.find(".log") != std::string::npos;
    return n;
  };
  auto read_one = [&](std::uint64_t offset) {
    auto r = store->read(1, offset, 1);
    REQUIRE(r.ok());
    REQUIRE(r->front().payload == payload_for(1, offset));
  };
  read_one(0);    // three different sealed segments: three opens, the first one then closed
  read_one(60);
  read_one(120);
  CHECK(log_opens() == 3);
  read_one(61);   // still open: the most recently used stay
  read_one(121);
  CHECK(log_opens() == 3);
  read_one(1);    // the least recently used was closed: opened again
  CHECK(log_opens() == 4);
  Options zero = o;
  zero.max_open_sealed_files = 0;
  CHECK(Store::open(env.fs(), env.clock, "/other", zero).error().code == Errc::invalid_argument);
}
