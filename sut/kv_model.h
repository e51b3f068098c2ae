// The model of what must survive a crash, for engines that commit key/value puts: the
// recovered state must be the state after a prefix of the commits attempted and not yet
// known lost, one that holds every acknowledged commit. Acknowledged commits are never
// lost, nothing is invented, commits are atomic and ordered (no later commit without the
// earlier ones). Independent of every engine: it sees only what they return.
//
// Seeing a commit is not durability: a commit that failed (or was cut off by a crash) and
// that the next process finds may still vanish at a later power loss (Linux after an
// fsync error keeps the page cache's bytes that never reached the disk: a process that
// reads them back cannot tell). It stays undecided until it vanishes or a later
// acknowledged commit, which builds on it, decides it.
//
// After damage at rest (Recovery::damaged) the state after any prefix of every commit is
// allowed, acknowledged or not: an engine that checksums its data may drop what it can no
// longer read (counted in Verdict::lost_to_damage), never hold a value no prefix made.
// With DamagePromise::no_altered, holes too: any state whose every value a commit wrote.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sut/model.h"

namespace cairn::sut {

class KvModel final : public Model {
 public:
  void attempt(const Commit& c) override;
  void acknowledge() override;
  // After a recovery the engine holds `held`. Allowed when it is the state after the
  // durable base and a prefix of the undecided commits that holds every acknowledged one
  // (how.everything: the whole list, as after a clean close); the model then drops the
  // commits after that prefix (they must never come back). With how.damaged, also the
  // state after any shorter prefix of every commit (the model then rebuilds on it).
  // Otherwise the failure, naming the commits lost or the first key that differs; the
  // model is unchanged.
  Verdict recovered(const State& held, const Recovery& how) override;
  // The same without damage: "" or the failure.
  std::string recovered(const State& held, bool everything = false) {
    return recovered(held, Recovery{everything, DamagePromise::none}).failure;
  }

  std::uint64_t attempted() const override { return attempted_; }
  std::uint64_t acknowledged() const override { return acknowledged_; }
  std::uint64_t observed() const override { return pending_.empty() ? base_number_ : pending_.back().number; }

 private:
  // After damage: `held` is the state after the first k of every commit; the base becomes it.
  // Every commit not known lost, in order: the decided ones, then the undecided.
  std::vector<Commit> history() const;
  bool rebuild_after_damage(const State& held, Verdict& v);
  // After damage with DamagePromise::no_altered: every value held is one a commit wrote to
  // its key; the base becomes `held`, standing for every commit attempted so far.
  bool rebuild_from_written(const State& held, Verdict& v);
  std::string explain(const State& held, const State& want, std::uint64_t want_number) const;
  std::uint64_t number_at(std::size_t k) const { return k == 0 ? base_number_ : pending_[k - 1].number; }

  State base_;                      // the state after base_number_: every commit in it acknowledged
  std::uint64_t base_number_ = 0;
  std::vector<Commit> pending_;     // after the base, in order: attempted, not yet decided
  std::vector<Commit> decided_;     // the commits in the base, in order (to name what was lost)
  std::uint64_t attempted_ = 0;
  std::uint64_t acknowledged_ = 0;
};

}  // namespace cairn::sut
