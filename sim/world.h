// The simulated world of one seed (private to sim/): the real store on SimFileSystem
// behind an ObservedFileSystem, the actors that drive it, the injector of damage at rest,
// and the oracle that judges every answer. simulation.cc runs the event loop;
// world_restart.cc holds power loss, reopen and the end-of-seed liveness check;
// world_actors.cc the workload and the users around the store; world_bitrot.cc the damage.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "core/store.h"
#include "sim/durability.h"
#include "sim/fault_map.h"
#include "sim/observed_fs.h"
#include "sim/oracle.h"
#include "sim/simulation.h"
#include "simfs/prng.h"
#include "simfs/sim_filesystem.h"

namespace cairn::sim {

inline constexpr const char* kStoreDir = "/store";

enum class Actor : std::uint8_t {
  writer, reader, checkpointer, syncer, retention, verifier, crasher, bitrot, inspector, second_writer, disk
};

struct Event {
  std::uint64_t time_us;
  std::uint64_t seq;
  Actor actor;
  std::uint64_t stream;
  bool operator>(const Event& o) const { return time_us != o.time_us ? time_us > o.time_us : seq > o.seq; }
};

class World {
 public:
  explicit World(const SeedOptions& o);
  SeedResult run();

 private:
  // --- simulation.cc
  void note(const std::string& line) { fs_.note("sim: " + line); }
  void fail(std::string why);
  void schedule(Actor a, std::uint64_t stream);
  std::uint64_t mean_of(Actor a) const;
  void act(const Event& e);
  void step(const Event& e);
  void mark(const char* actor, std::uint64_t stream);
  void finish();

  // --- world_restart.cc
  // Power loss (or a reopen without one, after a fail-stop), then a reopen that may lose
  // power again inside recovery, then the oracle's recovery checks.
  void restart(bool power_loss, bool after_clean_close = false);
  bool open_once(int attempt, bool& retry, bool& lost_power);
  void after_open(bool crashed, bool after_clean_close);
  void draw_reopen_options();
  void after_op(const char* what, std::uint64_t fsync_failures_before);
  void crash();
  void liveness();
  std::uint64_t fsync_failures() const { return fs_.fault_count(fs::FaultFamily::fsync_failure); }
  std::uint64_t read_errors() const { return fs_.fault_count(fs::FaultFamily::read_error); }

  // --- world_actors.cc
  void write(std::uint64_t stream);
  // The pipelined append's checks: the batch before it is durable now; now and then the
  // writer waits for this one too.
  std::string after_pipelined(std::uint64_t stream, const AppendResult& r);
  void wait_durable(std::uint64_t stream);
  void refused_write(std::uint64_t stream, const std::vector<Bytes>& batch);
  std::vector<Bytes> draw_batch();
  void read(std::uint64_t stream);
  void checkpoint(std::uint64_t stream);
  void sync();
  void purge(std::uint64_t stream);
  void verify();
  void repair_next();
  void inspect();
  void second_writer();
  void disk();
  bool blocked(std::uint64_t stream) const;

  // --- world_bitrot.cc
  void bitrot();
  void flip(const std::string& path, std::uint64_t stream, bool edge);
  void tamper(const std::string& path, std::uint64_t stream);
  void lie(const std::string& path, std::uint64_t stream);
  std::string pick_file(const std::string& ext, std::uint64_t& stream);

  SeedOptions opt_;
  Swarm swarm_;
  Prng workload_;
  Prng faults_rng_;
  ManualClock clock_;
  fs::SimFileSystem fs_;
  DurabilityModel model_;
  ObservedFileSystem observed_;
  FaultMap faults_;
  Oracle oracle_;
  Options store_options_;
  std::unique_ptr<Store> store_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  bool final_check_ = false;            // the last restart reads every record back
  std::uint64_t hold_left_ = 0;         // events a fail-stopped store stays open
  std::uint64_t disk_full_left_ = 0;    // events the disk stays full
  std::vector<std::uint64_t> repairs_;  // streams the operator will repair next
  std::vector<std::uint64_t> blocked_;  // streams the last open refused appends to, until repaired
  // Per stream, the last offset of its latest pipelined batch not yet waited for (this
  // store only: cleared at every reopen).
  std::map<std::uint64_t, std::uint64_t> in_flight_;
  SeedResult result_;
};

}  // namespace cairn::sim
