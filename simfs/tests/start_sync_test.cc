// File::start_sync on both filesystems, and the simulated one's model of a sync in
// flight (simfs/filesystem.h): it covers only the writes made before it started,
// completes at a simulated time, and a crash while it is in flight decides nothing.
#include <catch2/catch.hpp>

#include <string>

#include "simfs/clock.h"
#include "simfs/sim_filesystem.h"
#include "simfs/tests/fs_envs.h"

namespace {

using cairn::Bytes;
using cairn::Errc;
using cairn::ManualClock;
using cairn::fs::OpenOptions;
using cairn::fs::SimConfig;
using cairn::fs::SimFileSystem;

using cairn::testing::Posix;
using cairn::testing::Sim;

Bytes filled(std::size_t n, std::uint8_t value) { return Bytes(n, value); }

}  // namespace

TEMPLATE_TEST_CASE("start_sync: writes before and after it, wait, a second wait, close", "[simfs][sync]", Posix, Sim) {
  TestType env;
  auto f = env.fs().open(env.dir() + "/a.log", OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(cairn::fs::write_all(**f, 0, filled(4096, 1)).ok());
  auto pending = (*f)->start_sync();
  REQUIRE(pending.ok());
  REQUIRE(cairn::fs::write_all(**f, 4096, filled(512, 2)).ok());  // beside the sync
  REQUIRE((*pending)->wait().ok());
  const auto again = (*pending)->wait();
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::invalid_argument);
  auto second = (*f)->start_sync();  // never waited for: destroying it must not hang or leak
  REQUIRE(second.ok());
  second->reset();
  CHECK((*f)->size().value() == 4608);
  CHECK((*f)->close().ok());
  auto ro = env.fs().open(env.dir() + "/a.log", OpenOptions{.read_only = true});
  REQUIRE(ro.ok());
  const auto refused = (*ro)->start_sync();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::read_only);
}

TEST_CASE("start_sync (sim): covers only earlier writes and completes at a simulated time", "[simfs][sync]") {
  ManualClock clock;
  SimConfig cfg;
  cfg.latency_min_us = 10;
  cfg.latency_max_us = 10;
  cfg.sync_latency_factor = 20;
  SimFileSystem sim(cfg, 3, &clock);
  auto f = sim.open("/a.log", OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(sim.sync_dir("/").ok());
  REQUIRE(cairn::fs::write_all(**f, 0, filled(100, 1)).ok());
  auto pending = (*f)->start_sync();
  REQUIRE(pending.ok());
  const std::uint64_t started = clock.now_us();
  REQUIRE(cairn::fs::write_all(**f, 100, filled(50, 2)).ok());
  REQUIRE(sim.durable_contents("/a.log")->empty());  // nothing durable before the wait
  REQUIRE((*pending)->wait().ok());
  CHECK(clock.now_us() >= started + 200);  // the sync took its simulated time
  CHECK(*sim.durable_contents("/a.log") == filled(100, 1));  // the later write is not covered
  CHECK(sim.current_contents("/a.log")->size() == 150);
  REQUIRE((*f)->sync().ok());
  CHECK(sim.durable_contents("/a.log")->size() == 150);
}

TEST_CASE("start_sync (sim): a crash while the sync is in flight leaves its writes undecided", "[simfs][sync]") {
  SimConfig cfg;
  cfg.lost_writes = true;
  cfg.lost_write_ppm = 1'000'000;  // every pending write is lost at the crash
  SimFileSystem sim(cfg, 5);
  auto f = sim.open("/a.log", OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(sim.sync_dir("/").ok());
  REQUIRE(cairn::fs::write_all(**f, 0, filled(64, 7)).ok());
  auto pending = (*f)->start_sync();
  REQUIRE(pending.ok());
  sim.crash();
  const auto waited = (*pending)->wait();
  REQUIRE_FALSE(waited.ok());
  CHECK(waited.error().code == Errc::io_error);
  CHECK(sim.durable_contents("/a.log")->empty());  // the write was still pending: lost
}

TEST_CASE("start_sync (sim): an injected fsync failure decides only the covered writes", "[simfs][sync]") {
  SimConfig cfg;
  cfg.fsync_failures = true;
  cfg.fsync_failure_ppm = 1'000'000;
  SimFileSystem sim(cfg, 9);
  auto f = sim.open("/a.log", OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(cairn::fs::write_all(**f, 0, filled(64, 1)).ok());
  auto pending = (*f)->start_sync();
  REQUIRE(pending.ok());
  REQUIRE(cairn::fs::write_all(**f, 64, filled(64, 2)).ok());
  const auto waited = (*pending)->wait();
  REQUIRE_FALSE(waited.ok());
  CHECK(waited.error().code == Errc::io_error);
  REQUIRE(sim.fault_log().size() == 1);
  CHECK(sim.fault_log().back().detail.size() == std::string("pending kept/lost/torn: ").size() + 1);  // one write decided
}
