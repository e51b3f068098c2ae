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
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sut/engine.h"

namespace cairn::sut {

class KvModel {
 public:
  using State = std::map<std::string, std::string>;

  // Before the engine sees commit `c` (numbers rise; a vanished commit's number is not reused).
  void attempt(const Commit& c);
  // The engine acknowledged the last attempted commit (and so everything before it).
  void acknowledge();
  // After a recovery the engine holds `held`. "" when it is the state after the durable
  // base and a prefix of the undecided commits that holds every acknowledged one
  // (with `everything`: the whole list, as after a clean close); the model then drops the
  // commits after that prefix (they must never come back). Otherwise the failure, naming
  // the commits lost or the first key that differs; the model is unchanged.
  std::string recovered(const State& held, bool everything = false);

  std::uint64_t attempted() const { return attempted_; }
  std::uint64_t acknowledged() const { return acknowledged_; }
  // The last commit of the state the last recovery found.
  std::uint64_t observed() const { return pending_.empty() ? base_number_ : pending_.back().number; }

 private:
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
