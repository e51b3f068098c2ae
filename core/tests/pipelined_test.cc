// Pipelined durability (Store::append_pipelined, Store::wait_durable): a batch's sync
// runs while the next batch is framed and written; records are durable, and counted so,
// only once the sync that covers them has completed.
#include <catch2/catch.hpp>

#include "core/format.h"
#include "core/tests/test_env.h"

using namespace cairn;
using cairn::testing::PosixEnv;
using cairn::testing::SimEnv;

namespace {

std::vector<Bytes> batch_of(std::uint64_t first, std::size_t n) {
  std::vector<Bytes> b;
  for (std::size_t i = 0; i < n; ++i) b.push_back(testing::payload_for(1, first + i, 120));
  return b;
}

// A simulated disk that loses every write not yet synced when power fails.
struct LossyEnv {
  ManualClock clock{1'000'000};
  fs::SimFileSystem sim{[] {
                          fs::SimConfig c;
                          c.lost_writes = true;
                          c.lost_write_ppm = 1'000'000;
                          c.latency_min_us = 5;
                          c.latency_max_us = 5;
                          return c;
                        }(),
                        3, &clock};
  std::string dir = "/store";
  fs::FileSystem& fs() { return sim; }
};

}  // namespace

TEMPLATE_TEST_CASE("pipelined appends: offsets, reads before the wait, durable after it, across rotations", "[pipelined]",
                   PosixEnv, SimEnv) {
  TestType env;
  std::uint64_t next = 0;
  {
    auto store = testing::open_store(env);  // 4 KiB segments: many rotations with a sync in flight
    std::optional<AppendResult> previous;
    for (int i = 0; i < 60; ++i) {
      auto r = store->append_pipelined(1, batch_of(next, 3));
      REQUIRE(r.ok());
      CHECK(r->first_offset == next);
      next = (r->checkpoint_offset ? *r->checkpoint_offset : r->last_offset) + 1;
      CHECK(store->durable_offset(1).value() <= r->first_offset);  // its own sync is still in flight
      auto back = store->read(1, r->first_offset, 1);
      REQUIRE(back.ok());
      CHECK(back->front().payload == testing::payload_for(1, r->first_offset, 120));
      if (previous) {
        REQUIRE(store->wait_durable(1, previous->last_offset).ok());
        CHECK(store->durable_offset(1).value() > previous->last_offset);
      }
      previous = *r;
    }
    REQUIRE(store->wait_durable(1, previous->last_offset).ok());
    CHECK(store->durable_offset(1).value() == next);
    CHECK(store->stats(1)->segments > 5);
    const auto never = store->wait_durable(1, next);
    REQUIRE_FALSE(never.ok());
    CHECK(never.error().code == Errc::invalid_argument);
    REQUIRE(store->append(1, batch_of(next, 1)).ok());  // a blocking append after them
    CHECK(store->durable_offset(1).value() == next + 1);
    REQUIRE(store->close().ok());
  }
  auto again = testing::open_store(env);
  CHECK(again->stats(1)->next_offset == next + 1);
  auto v = again->verify();
  REQUIRE(v.ok());
  CHECK(v->findings.empty());
}

TEST_CASE("pipelined appends: a power loss before the wait loses the batch; a waited one survives", "[pipelined]") {
  LossyEnv env;
  std::uint64_t kept_end = 0;
  {
    auto store = testing::open_store(env);
    auto first = store->append_pipelined(1, batch_of(0, 2));
    REQUIRE(first.ok());
    REQUIRE(store->wait_durable(1, first->last_offset).ok());
    kept_end = first->last_offset + 1;
    auto second = store->append_pipelined(1, batch_of(kept_end, 2));
    REQUIRE(second.ok());
    CHECK(store->durable_offset(1).value() == kept_end);
    env.sim.crash();  // the second batch's sync is in flight
  }
  auto store = testing::open_store(env);
  CHECK(store->stats(1)->next_offset == kept_end);
  auto back = store->read(1, 0, 1u << 20);
  REQUIRE(back.ok());
  REQUIRE(back->size() == kept_end);
}

TEST_CASE("pipelined appends: the sync runs beside the next batch and covers only the writes before it", "[pipelined]") {
  LossyEnv env;
  auto store = testing::open_store(env);
  auto first = store->append_pipelined(1, batch_of(0, 1));
  REQUIRE(first.ok());
  const std::string seg = env.dir + "/" + format::stream_dir_name(1) + "/" + format::segment_file_name(0);
  const std::size_t after_first = env.sim.current_contents(seg)->size();
  CHECK(env.sim.durable_contents(seg)->size() < after_first);  // submitted, not completed
  auto second = store->append_pipelined(1, batch_of(1, 1));  // waits for the first sync after writing
  REQUIRE(second.ok());
  CHECK(env.sim.durable_contents(seg)->size() == after_first);  // the first batch, not the second
  CHECK(store->durable_offset(1).value() == 1);
  REQUIRE(store->wait_durable(1, second->last_offset).ok());
  CHECK(env.sim.durable_contents(seg)->size() == env.sim.current_contents(seg)->size());
}

TEST_CASE("pipelined appends: a failed sync is reported by the wait and the store fails stop", "[pipelined]") {
  ManualClock clock{1'000'000};
  fs::SimConfig c;
  fs::SimFileSystem sim(c, 4, &clock);
  auto opened = Store::open(sim, clock, "/store", testing::small_options());
  REQUIRE(opened.ok());
  auto& store = *opened;
  auto r = store->append_pipelined(1, batch_of(0, 2));
  REQUIRE(r.ok());
  sim.mutable_config().fsync_failures = true;
  sim.mutable_config().fsync_failure_ppm = 1'000'000;
  const auto waited = store->wait_durable(1, r->last_offset);
  REQUIRE_FALSE(waited.ok());
  CHECK(waited.error().code == Errc::io_error);
  CHECK(store->fail_stopped());
  CHECK(store->durable_offset(1).value() == 0);
  CHECK(store->append_pipelined(1, batch_of(2, 1)).error().code == Errc::fail_stopped);
}
