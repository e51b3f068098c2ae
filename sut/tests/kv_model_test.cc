// KvModel: states after a prefix holding every acknowledged commit pass, every other state
// fails; what vanished stays gone; seeing a commit does not make it durable.
#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include "sut/kv_model.h"

using cairn::sut::Commit;
using cairn::sut::KvModel;

namespace {

Commit put(std::uint64_t n, const std::string& k, const std::string& v) { return Commit{n, {{k, v}}}; }

// The state after the first k commits, built here by hand (not by the model).
KvModel::State after(const std::vector<Commit>& cs, std::size_t k) {
  KvModel::State s;
  for (std::size_t i = 0; i < k; ++i)
    for (const auto& [key, value] : cs[i].puts) s[key] = value;
  return s;
}

}  // namespace

TEST_CASE("KvModel: a recovered prefix passes iff it holds every acknowledged commit") {
  rc::prop("prefix k of n commits, the first a acknowledged", [] {
    const auto n = *rc::gen::inRange<std::size_t>(1, 12);
    const auto acked = *rc::gen::inRange<std::size_t>(0, n + 1);
    const auto k = *rc::gen::inRange<std::size_t>(0, n + 1);
    std::vector<Commit> cs;
    KvModel m;
    for (std::size_t i = 0; i < n; ++i) {
      cs.push_back(put(i + 1, "k" + std::to_string(i % 3), "v" + std::to_string(i + 1)));
      m.attempt(cs.back());
      if (i + 1 <= acked) m.acknowledge();
    }
    const std::string why = m.recovered(after(cs, k));
    RC_ASSERT(why.empty() == (k >= acked || after(cs, k) == after(cs, acked)));
  });
}

TEST_CASE("KvModel: names the lost commits, an invented value, and keeps vanished commits gone") {
  KvModel m;
  const std::vector<Commit> cs = {put(1, "a", "1"), put(2, "b", "2"), put(3, "a", "3")};
  for (const Commit& c : cs) {
    m.attempt(c);
    m.acknowledge();
  }
  CHECK(m.recovered(after(cs, 1)) == "commits 2..3 lost: the engine recovered the state after commit 1, not 3");
  KvModel::State invented = after(cs, 3);
  invented["z"] = "?";
  CHECK(m.recovered(invented).find("key z holds \"?\"") != std::string::npos);
  CHECK(m.recovered(after(cs, 3)).empty());

  // Commit 4 is attempted, not acknowledged, and vanishes: it must not come back.
  m.attempt(put(4, "c", "4"));
  CHECK(m.recovered(after(cs, 3)).empty());
  KvModel::State with4 = after(cs, 3);
  with4["c"] = "4";
  CHECK_FALSE(m.recovered(with4).empty());
}

TEST_CASE("KvModel: a commit seen but never acknowledged may still vanish; a clean close needs all") {
  KvModel m;
  m.attempt(put(1, "a", "1"));
  m.acknowledge();
  m.attempt(put(2, "a", "2"));  // failed: undecided
  CHECK(m.recovered({{"a", "2"}}).empty());  // a process sees it
  CHECK(m.recovered({{"a", "1"}}).empty());  // and after a power loss it is gone: allowed
  m.attempt(put(3, "b", "3"));
  CHECK_FALSE(m.recovered({{"a", "1"}}, /*everything=*/true).empty());  // a clean close lost 3
  CHECK(m.recovered({{"a", "1"}, {"b", "3"}}, true).empty());
}

TEST_CASE("KvModel after damage: prefix allows a shorter prefix, never holes; no_altered allows holes, never a new value") {
  using cairn::sut::DamagePromise;
  using cairn::sut::Recovery;
  const std::vector<Commit> cs = {put(1, "a", "1"), put(2, "b", "2"), put(3, "c", "3")};
  auto acked = [&] {
    KvModel m;
    for (const Commit& c : cs) {
      m.attempt(c);
      m.acknowledge();
    }
    return m;
  };
  const KvModel::State hole = {{"a", "1"}, {"c", "3"}};  // commit 2 dropped, 3 kept
  KvModel::State flipped = after(cs, 3);
  flipped["b"] = "3";  // a value no commit wrote to b

  KvModel m = acked();
  CHECK_FALSE(m.recovered(after(cs, 1)).empty());  // undamaged: commits 2..3 lost
  const auto v = m.recovered(after(cs, 1), Recovery{false, DamagePromise::prefix});
  CHECK(v.failure.empty());
  CHECK(v.lost_to_damage == 2);
  CHECK(m.recovered(after(cs, 1)).empty());  // the held state is the new truth
  m.attempt(put(4, "d", "4"));
  m.acknowledge();
  CHECK_FALSE(m.recovered(after(cs, 1)).empty());  // and what is acknowledged after it counts

  m = acked();
  CHECK_FALSE(m.recovered(hole, Recovery{false, DamagePromise::prefix}).failure.empty());
  CHECK_FALSE(m.recovered(flipped, Recovery{false, DamagePromise::prefix}).failure.empty());

  m = acked();
  CHECK_FALSE(m.recovered(flipped, Recovery{false, DamagePromise::no_altered}).failure.empty());
  const auto h = m.recovered(hole, Recovery{false, DamagePromise::no_altered});
  CHECK(h.failure.empty());
  CHECK(h.lost_to_damage == 1);
  CHECK(m.recovered(hole).empty());
}
