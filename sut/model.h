// What a model of an engine sees and decides (sut/run.h asks it): the commits the harness
// attempts, which ones the engine acknowledged, and after every open whether what the
// engine holds is allowed. The default model is KvModel (sut/kv_model.h); an engine that
// promises something else (a queue that may lose an acknowledged tail, a store that keeps
// unacknowledged commits too) supplies its own through Engine::model().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cairn::sut {

// One commit of the workload: puts applied atomically, numbered from 1 in attempt order.
// Keys and values are byte strings; the default workload's values name their commit.
struct Commit {
  std::uint64_t number = 0;
  std::vector<std::pair<std::string, std::string>> puts;
};

// What an engine promises after damage at rest (bits flipped in its durable files).
enum class DamagePromise {
  none,        // not checksummed: the harness flips no bits (SQLite's pages)
  prefix,      // reports it, or drops whole commits from the end: the state after a prefix (cairn)
  no_altered,  // may skip what it cannot read anywhere, holes included; every value it holds
               // is one a commit wrote (LevelDB with paranoid_checks off, its default)
};

// What the harness knows about one recovery.
struct Recovery {
  // After a clean close: every commit the engine accepted must be there, not only the
  // acknowledged (durable) ones.
  bool everything = false;
  // Bits were flipped in the engine's durable files this seed (none: no damage yet): what
  // the engine may then hold besides the undamaged verdict.
  DamagePromise damaged = DamagePromise::none;
};

struct Verdict {
  std::string failure;                // "" when what the engine holds is allowed
  std::uint64_t lost_to_damage = 0;   // acknowledged commits dropped after damage (allowed)
};

class Model {
 public:
  using State = std::map<std::string, std::string>;
  virtual ~Model() = default;
  // Before the engine sees commit `c` (numbers rise from 1; a vanished one's is not reused).
  virtual void attempt(const Commit& c) = 0;
  // The engine acknowledged the last attempted commit (and so everything before it).
  virtual void acknowledge() = 0;
  // After an open the engine holds `held` (Session::read_all). The verdict names the
  // failure, if any; on success the model takes `held` as the new truth to build on.
  virtual Verdict recovered(const State& held, const Recovery& how) = 0;
  virtual std::uint64_t attempted() const = 0;     // the last attempted commit's number
  virtual std::uint64_t acknowledged() const = 0;  // the last acknowledged commit's number
  virtual std::uint64_t observed() const = 0;      // the last commit the last recovery held
};

}  // namespace cairn::sut
