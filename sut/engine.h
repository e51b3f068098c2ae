// The system-under-test interface: what a storage engine supplies to run under cairn's
// simulator (sut/run.h: seeded scheduler, fault injection on SimFileSystem, power loss and
// restart, a model of what must survive, reports and replay lines). cairn's own log is one
// adapter (engines/cairn_log.cc); SQLite and LevelDB are others (engines/). A new engine is
// one file: a Session that commits and reads back, an Engine that opens it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "simfs/clock.h"
#include "simfs/filesystem.h"
#include "simfs/prng.h"
#include "simfs/result.h"
#include "simfs/sim_filesystem.h"
#include "sut/model.h"

namespace cairn::sut {

// What the harness hands an engine for one process lifetime (open until crash or close);
// it outlives the Session opened with it.
struct Environment {
  fs::FileSystem& fs;                          // every byte goes through it (a SimFileSystem)
  Clock& clock;                                // simulated time, microseconds
  std::function<void(std::uint64_t)> sleep_us; // advances simulated time by that many us
  Prng& random;                                // the engine's own randomness (SQLite's nonces)
  std::string dir;                             // the engine's directory (absolute, exists)
};

// An open engine, from open (which recovers) to a crash or close. The harness destroys a
// Session when its process dies: its destructor's filesystem calls then fail (io_error),
// as a dead process makes none.
class Session {
 public:
  virtual ~Session() = default;
  // Applies `c`. ok means acknowledged: the configuration promises it survives (for an
  // engine that syncs per commit) or merely that it was accepted (for one that does not).
  // An error is fail-stop: the harness restarts the process; `c` may or may not survive.
  virtual Status commit(const Commit& c) = 0;
  // Every key and value the engine holds now. Errors: whatever the engine reports.
  virtual Result<std::map<std::string, std::string>> read_all() = 0;
  // Work the engine deferred to a background thread (LevelDB's compactions), run by the
  // harness between steps on its own thread so the run stays deterministic.
  virtual void run_background() {}
  // A clean shutdown (filesystem calls allowed). Errors: whatever the engine reports.
  virtual Status close() { return {}; }
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Opens the engine in env.dir, recovering whatever is there (an empty directory on the
  // first open). Errors: whatever the engine reports; the harness restarts and retries
  // (power lost inside recovery) a few times before it calls the seed failed.
  virtual Result<std::unique_ptr<Session>> open(Environment& env) = 0;
  // The fault families that apply (their rates). Default: lost and torn unsynced writes,
  // reverted directory entries (in order, committed by any fsync: a journaling
  // filesystem), fsync failures and write errors (EIO, ENOSPC):
  // faults after which a correct engine loses nothing it acknowledged. Damage to synced
  // data (bit flips, misdirected writes) is left to engine-specific checks. The harness
  // turns each enabled family off for some seeds (swarm testing).
  virtual fs::SimConfig faults() const;
  // The workload: commit `number`. Default: 1..8 puts over 64 keys "k00".."k63", values
  // "c<number>.<i>:" followed by 0..200 bytes of filler.
  virtual Commit draw(Prng& rng, std::uint64_t number) const;
  // The model of what must survive, one per seed. Default: KvModel (acknowledged commits
  // survive, atomic and in order; sut/kv_model.h).
  virtual std::unique_ptr<Model> model() const;
  // What the engine promises after damage at rest. Other than none, the harness flips bits
  // in its durable files (after some power losses, in half the seeds) and holds it to the
  // promise (sut/model.h); a corruption error ends the seed as damage detected.
  virtual DamagePromise damage_promise() const { return DamagePromise::none; }
};

}  // namespace cairn::sut
