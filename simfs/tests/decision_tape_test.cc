// The decision tape (simfs/decision_tape.h) under the PRNG: recording changes nothing,
// replaying reproduces every draw, 0 is the simplest choice, bytes map to choices.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <vector>

#include "simfs/decision_tape.h"
#include "simfs/prng.h"

using namespace cairn;

namespace {

// A mixed sequence of draws, as the simulator makes them.
std::vector<std::uint64_t> draws(Prng& p) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < 50; ++i) {
    out.push_back(p.below(7));
    out.push_back(p.range(100, 900));
    out.push_back(p.chance_ppm(300'000));
    out.push_back(p.chance_ppm(0));
    out.push_back(p.coin());
    out.push_back(p.next_u64());
  }
  return out;
}

}  // namespace

TEST_CASE("a recording tape leaves every draw what it was; replaying it gives them back") {
  rc::prop("record then replay", [](std::uint64_t seed) {
    Prng plain(seed);
    const std::vector<std::uint64_t> expected = draws(plain);
    Prng recorded(seed);
    DecisionTape rec = DecisionTape::recording();
    recorded.attach(&rec);
    RC_ASSERT(draws(recorded) == expected);
    Prng other(seed + 1);  // the generator's own state no longer matters
    DecisionTape rep = DecisionTape::replaying(rec.used());
    other.attach(&rep);
    RC_ASSERT(draws(other) == expected);
    RC_ASSERT(rep.overrun() == 0u);
    RC_ASSERT(rep.used() == rec.used());
  });
}

TEST_CASE("0 is the simplest choice: no event, the first option, the lowest value") {
  DecisionTape zeros = DecisionTape::replaying({});
  Prng p(1);
  p.attach(&zeros);
  CHECK_FALSE(p.chance_ppm(999'999));  // even a near-certain fault is off
  CHECK(p.below(10) == 0);
  CHECK(p.range(5, 9) == 5);
  CHECK_FALSE(p.coin());
  CHECK(p.next_u64() == 0);
  CHECK(zeros.overrun() == 5);
  // ppm = 1,000,000 is certain whatever the tape says.
  CHECK(p.chance_ppm(1'000'000));
}

TEST_CASE("replayed values above a choice's range are clamped to its largest value") {
  DecisionTape t = DecisionTape::replaying({50, 999'999, 7});
  Prng p(3);
  p.attach(&t);
  CHECK(p.below(10) == 9);
  CHECK(p.chance_ppm(1));  // tape value 999,999 is the rarest outcome: the fault
  CHECK(p.range(0, 3) == 3);
  CHECK(t.used() == std::vector<std::uint64_t>{9, 999'999, 3});
  CHECK(t.bounds() == std::vector<std::uint64_t>{10, 1'000'000, 4});
}

TEST_CASE("bytes become choices by the width of each range, little-endian, modulo the range") {
  const std::uint8_t bytes[] = {0x05, 0x34, 0x12, 0xff};
  DecisionTape t = DecisionTape::from_bytes(bytes, sizeof bytes);
  CHECK(t.choose(3, 0) == 2);          // one byte: 5 % 3
  CHECK(t.choose(70'000, 0) == 0xff1234u % 70'000);  // 70,000 needs 4 bytes; 3 are left: 0x34 0x12 0xff
  CHECK(t.choose(2, 0) == 0);          // past the end: 0
  CHECK(t.overrun() == 1);
}

TEST_CASE("spans mark the choices of one event") {
  DecisionTape t = DecisionTape::recording();
  Prng p(9);
  p.attach(&t);
  p.below(4);
  const std::size_t s = t.begin_span("writer");
  p.below(4);
  p.coin();
  t.end_span(s);
  REQUIRE(t.spans().size() == 1);
  CHECK(t.spans()[0].begin == 1);
  CHECK(t.spans()[0].end == 3);
  CHECK(t.spans()[0].label == "writer");
}

TEST_CASE("a chance is stored by its outcome: 0 for no, the smallest yes value for yes") {
  DecisionTape t = DecisionTape::recording();
  Prng p(5);
  p.attach(&t);
  for (int i = 0; i < 200; ++i) {
    const bool yes = p.chance_ppm(250'000);
    CHECK(t.used().back() == (yes ? 750'000u : 0u));
  }
  DecisionTape r = DecisionTape::replaying({749'999, 750'000, 0});
  Prng q(6);
  q.attach(&r);
  CHECK_FALSE(q.chance_ppm(250'000));
  CHECK(q.chance_ppm(250'000));
  CHECK_FALSE(q.chance_ppm(250'000));
  CHECK(r.used() == std::vector<std::uint64_t>{0, 750'000, 0});
}
