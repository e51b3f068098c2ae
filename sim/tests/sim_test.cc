// Unit tests of the simulator's pieces: PRNG range reduction, swarm derivation and
// overrides, and same-seed determinism in one process (the oracle: oracle_test.cc).
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <set>

#include "core/canary.h"
#include "sim/simulation.h"
#include "sim/swarm.h"
#include "simfs/prng.h"

using namespace cairn;
using namespace cairn::sim;

TEST_CASE("the PRNG's range reduction stays in range and covers it") {
  rc::prop("below(n) < n", [](std::uint64_t seed) {
    Prng p(seed);
    const std::uint64_t n = *rc::gen::inRange<std::uint64_t>(1, 1000);
    for (int i = 0; i < 100; ++i) RC_ASSERT(p.below(n) < n);
  });
  Prng p(7);
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 10000; ++i) ++seen[p.below(10)];
  for (int c : seen) {
    CHECK(c > 800);
    CHECK(c < 1200);
  }
  Prng a(99), b(99);
  for (int i = 0; i < 100; ++i) CHECK(a.next_u64() == b.next_u64());
  CHECK(Prng(1).next_u64() != Prng(2).next_u64());
}

TEST_CASE("swarm configurations are a function of the seed and can be overridden") {
  CHECK(Swarm::from_seed(5).block() == Swarm::from_seed(5).block());
  int differing = 0;
  for (std::uint64_t s = 1; s < 20; ++s) differing += Swarm::from_seed(s).block() != Swarm::from_seed(s + 1).block();
  CHECK(differing == 19);
  // Swarm testing: across seeds every family is sometimes fully off and sometimes on.
  int lost_on = 0, flips_on = 0;
  for (std::uint64_t s = 1; s <= 200; ++s) {
    lost_on += Swarm::from_seed(s).lost_writes;
    flips_on += Swarm::from_seed(s).bit_flips;
  }
  CHECK(lost_on > 20);
  CHECK(lost_on < 180);
  CHECK(flips_on > 20);
  CHECK(flips_on < 180);
  Swarm w = Swarm::from_seed(1);
  CHECK(w.set("sync", "manual").empty());
  CHECK(w.sync == "manual");
  CHECK(w.set("streams", "3").empty());
  CHECK(w.streams == 3);
  CHECK(w.set("bit_flips", "on").empty());
  CHECK(w.bit_flips);
  CHECK_FALSE(w.set("sync", "often").empty());
  CHECK_FALSE(w.set("streams", "x").empty());
  CHECK_FALSE(w.set("no_such_key", "1").empty());
  for (const auto& [k, v] : w.fields()) CHECK(w.set(k, v).empty());  // every printed value parses
}

TEST_CASE("a seed runs the same way twice in one process") {
  SeedOptions opt;
  opt.seed = 77;
  opt.swarm = Swarm::from_seed(77);
  opt.events = 200;
  SeedResult a = run_seed(opt);
  SeedResult b = run_seed(opt);
  CHECK(a.passed);
  CHECK(a.digest == b.digest);
  CHECK(a.fs_ops == b.fs_ops);
  CHECK(a.events == 200);
  opt.seed = 78;
  CHECK(run_seed(opt).digest != a.digest);
}

TEST_CASE("the planted bugs are listed once each, in enum order, with at least 25 mutations") {
  const auto& bugs = planted_bugs();
  std::set<std::string> names;
  std::size_t mutations = 0;
  for (std::size_t i = 0; i < bugs.size(); ++i) {
    CHECK(static_cast<std::size_t>(bugs[i].id) == i + 1);
    CHECK(names.insert(bugs[i].name).second);
    CHECK(parse_canary(bugs[i].name) == bugs[i].id);
    CHECK(std::string(bugs[i].imitates).size() > 10);
    mutations += bugs[i].mutation ? 1 : 0;
  }
  CHECK(bugs.size() - mutations == 10);
  CHECK(mutations >= 25);
}

TEST_CASE("swarm keys: every key listed with a range, every range enforced") {
  const std::string keys = Swarm::key_list();
  Swarm w;
  for (const auto& [k, v] : w.fields()) CHECK(keys.find(k) != std::string::npos);
  CHECK_FALSE(w.set("crash_ppm", "1000001").empty());
  CHECK_FALSE(w.set("sector_bytes", "100").empty());
  CHECK(w.set("sector_bytes", "4096").empty());
  CHECK(w.set("edge_damage_ppm", "500000").empty());
}
