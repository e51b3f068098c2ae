// Decision tapes in the simulator: a seed's recorded tape replays the same run (digest and
// verdict), a tape file round-trips, failures compare by their check, and shrinking keeps
// the same check while making the run smaller (on the canary build).
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <memory>

#include "core/canary.h"
#include "sim/shrink.h"
#include "sim/simulation.h"
#include "sim/tape_file.h"
#include "simfs/decision_tape.h"

using namespace cairn;
using namespace cairn::sim;

namespace {

SeedOptions seed_options(std::uint64_t seed, std::uint64_t events, Canary canary = Canary::none) {
  SeedOptions o;
  o.seed = seed;
  o.swarm = Swarm::from_seed(seed);
  o.events = events;
  o.canary = canary;
  return o;
}

}  // namespace

TEST_CASE("a seed's recorded tape replays the same run") {
  rc::prop("same digest, same verdict", [] {
    const std::uint64_t seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 30);
    const SeedResult plain = run_seed(seed_options(seed, 120));
    SeedOptions rec = seed_options(seed, 120);
    DecisionTape tape = DecisionTape::recording();
    rec.tape = &tape;
    const SeedResult recorded = run_seed(rec);
    RC_ASSERT(recorded.digest == plain.digest);
    SeedOptions rep = seed_options(seed, 120);
    rep.swarm = Swarm{};  // replaying: the swarm comes from the tape
    rep.replay_values = std::make_shared<const std::vector<std::uint64_t>>(tape.used());
    const SeedResult replayed = run_seed(rep);
    RC_ASSERT(replayed.digest == plain.digest);
    RC_ASSERT(replayed.passed == plain.passed);
    RC_ASSERT(replayed.events == plain.events);
  });
}

TEST_CASE("overrides apply after the swarm is drawn from the tape") {
  SeedOptions o = seed_options(11, 40);
  o.replay_values = std::make_shared<const std::vector<std::uint64_t>>();
  CHECK(swarm_of(o).streams == 1);  // an empty tape: every choice 0, the smallest
  CHECK_FALSE(swarm_of(o).lost_writes);
  o.overrides = {"streams=3", "lost_writes=on"};
  CHECK(swarm_of(o).streams == 3);
  CHECK(swarm_of(o).lost_writes);
}

TEST_CASE("a tape file round-trips and rejects what it cannot read") {
  TapeFile t;
  t.comments = {"commit abc"};
  t.seed = 42;
  t.ops = 17;
  t.canary = "ack-before-fsync";
  t.sets = {"streams=2"};
  t.failure = "stream 0: lost";
  for (std::uint64_t i = 0; i < 40; ++i) t.choices.push_back(i * 977);
  t.choices.push_back(UINT64_MAX);
  TapeFile back;
  REQUIRE(parse_tape(tape_text(t), back) == "");
  CHECK(back.seed == 42);
  CHECK(back.ops == 17);
  CHECK(back.canary == t.canary);
  CHECK(back.sets == t.sets);
  CHECK(back.failure == t.failure);
  CHECK(back.choices == t.choices);
  CHECK(back.comments == t.comments);
  TapeFile bad;
  CHECK(parse_tape("not a tape\n", bad).find("line 1") != std::string::npos);
  CHECK(parse_tape(std::string(kTapeMagic) + "\nseed x\nchoices 0\n", bad).find("line 2") != std::string::npos);
  CHECK(parse_tape(std::string(kTapeMagic) + "\nseed 1\nchoices 3\n1 2\n", bad).find("cut") != std::string::npos);
  CHECK(parse_tape(std::string(kTapeMagic) + "\nseed 1\nchoices 1\n18446744073709551616\n", bad).find("64-bit") !=
        std::string::npos);
  CHECK(parse_tape(std::string(kTapeMagic) + "\nseed 1\n", bad).find("choices") != std::string::npos);
}

TEST_CASE("failures compare by their check, not their numbers") {
  CHECK(failure_check("stream 2: record 17 lost (seg-00000000000000000017.log)") ==
        failure_check("stream 0: record 3 lost (seg-00000000000000000000.log)"));
  CHECK(failure_check("digest cff0ac7a1953dee4 differs") == failure_check("digest 0123456789abcdef differs"));
  CHECK(failure_check("stream 2: record 17 lost") != failure_check("stream 2: record 17 changed"));
  CHECK(failure_check("a failed fsync") == "a failed fsync");  // hex-looking words stay
}

#if defined(CAIRN_CANARIES)
TEST_CASE("shrinking a canary's failure keeps its check and makes the run smaller") {
  install_property_handler();
  // Seed 3 of always-no-fsync fails at once; seed 11 of failed-fsync-retried after 100 events.
  SeedOptions base = seed_options(11, 400, Canary::failed_fsync_retried);
  DecisionTape rec = DecisionTape::recording();
  base.tape = &rec;
  const SeedResult failing = run_seed(base);
  REQUIRE_FALSE(failing.passed);
  ShrinkOptions so;
  so.base = seed_options(11, 400, Canary::failed_fsync_retried);
  so.choices = rec.used();
  so.max_runs = 2000;
  const ShrinkResult s = shrink(so);
  REQUIRE(s.failed_at_start);
  CHECK(s.runs <= 2001);  // the limit, and the one run that zeroes the payloads at the end
  CHECK(s.check == failure_check(failing.failure));
  CHECK(s.after.events * 10 <= s.before.events);
  CHECK(faults_injected(s.after) <= 3);
  // The shrunk tape replays to the same check.
  SeedOptions again = seed_options(11, s.events, Canary::failed_fsync_retried);
  again.replay_values = std::make_shared<const std::vector<std::uint64_t>>(s.choices);
  const SeedResult r = run_seed(again);
  CHECK_FALSE(r.passed);
  CHECK(failure_check(r.failure) == s.check);
  // Deterministic for a run limit.
  CHECK(shrink(so).choices == s.choices);
}
#endif
