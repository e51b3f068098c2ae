// The oracle: a model of what was written and what was acknowledged, per stream, and the
// checks of the durability and corruption contracts after every operation and every
// recovery (see "The oracle's rules" in sim/README.md).
//
// Every check returns "" when the store behaved, or a sentence saying what it did wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/chain.h"
#include "core/store.h"
#include "sim/swarm.h"

namespace cairn::sim {

// One record of one append attempt.
struct Attempt {
  std::uint64_t batch_id = 0;
  std::uint32_t index = 0;       // position in its batch
  std::uint32_t batch_size = 1;  // records in the batch, a trailing checkpoint included
  bool checkpoint = false;
  Bytes payload;                 // data records only
  bool unknown = false;          // survived a crash but could not be read back: any content
  bool removed = false;          // repair removed it: reads of it fail with not_found
};

struct OracleStream {
  std::vector<Attempt> acked;                       // by offset: what the store confirmed
  std::map<std::uint64_t, std::vector<Attempt>> maybe;  // failed attempts, by offset
  std::vector<ChainHash> chain;                     // h(o) as the oracle computed it
  std::uint64_t next = 0;       // the store's next offset, as last observed
  std::uint64_t durable = 0;    // acknowledged durable: every offset below survives
  std::uint64_t first = 0;      // first retained offset
  bool at_rest_log = false;     // at-rest damage was injected into one of its segments
  bool at_rest_index = false;   // ... or into one of its index sidecars
  bool purge_in_flight = false;
  std::uint64_t verified_below = 0;  // read back and matched at a recovery, no fault at rest since
  bool header_damaged = false;  // recovery reported a damaged segment header: the chain's seed
                                // may be unknowable, so checkpoints may disagree with the oracle
  std::vector<std::uint64_t> tampered;  // offsets whose payload was edited with the CRC fixed
  // Offset ranges a repair planned to remove and may not have finished (a crash inside
  // it): each offset there may be gone or still held.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> repair_planned;
  bool removed_at(std::uint64_t o) const { return o < acked.size() && acked[o].removed; }
  bool planned_at(std::uint64_t o) const {
    for (const auto& [a, b] : repair_planned) {
      if (o >= a && o < b) return true;
    }
    return false;
  }
};

class Oracle {
 public:
  explicit Oracle(const Swarm& swarm) : swarm_(swarm) {}

  void append_ok(std::uint64_t stream, const std::vector<Bytes>& batch, const AppendResult& r);
  void append_failed(std::uint64_t stream, const std::vector<Bytes>& batch);
  void checkpoint_ok(std::uint64_t stream, std::uint64_t offset);
  void checkpoint_failed(std::uint64_t stream);
  // The store reported durable_offset d for a stream. Returns a failure if it went back.
  std::string durable(std::uint64_t stream, std::uint64_t d);
  void purge_started(std::uint64_t stream) { streams_[stream].purge_in_flight = true; }
  std::string purge_ok(std::uint64_t stream, const StreamStats& st);
  void at_rest(std::uint64_t stream, bool index_file);
  // A fault hit the manifest (or its replacement in progress).
  void manifest_fault() { manifest_fault_ = true; }
  // A record's payload was edited and its CRC fixed. Only the chain can tell, and only
  // while a later record (or anchor) links to it.
  void tampered(std::uint64_t stream, std::uint64_t offset);
  // An operator repair of `stream` planned (dry run) or did these removals.
  void repair_planned(std::uint64_t stream, const RepairReport& plan);
  std::string repaired(std::uint64_t stream, const RepairReport& done);

  // A read of `stream` from `from` during the run.
  std::string check_read(std::uint64_t stream, std::uint64_t from,
                         const Result<std::vector<Record>>& r);
  std::string check_verify(const Result<VerifyReport>& r);
  // After a restart: what the store recovered, against what was acknowledged. Rebases
  // the model on what survived. `full` reads back every record; otherwise records read
  // back at an earlier recovery, with no fault at rest since, are not read again.
  std::string check_recovery(Store& store, bool full);

  const std::map<std::uint64_t, OracleStream>& streams() const { return streams_; }
  std::uint64_t acknowledged_records() const;

 private:
  std::string check_stream_recovery(Store& store, std::uint64_t id, OracleStream& s, bool full);
  std::string error_allowed(const OracleStream& s, const Error& e, const char* during) const;
  // Wrong bytes at `offset` are the store's fault unless the record was tampered with and
  // nothing after it in the stream (`next`) can expose it.
  static bool undetectable_tamper(const OracleStream& s, std::uint64_t offset, std::uint64_t next);

  const Swarm& swarm_;
  bool manifest_fault_ = false;
  std::map<std::uint64_t, OracleStream> streams_;
  std::uint64_t next_batch_id_ = 1;
  ChainHasher hasher_;
};

}  // namespace cairn::sim
