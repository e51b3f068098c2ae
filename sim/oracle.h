// The oracle: a model of what was written and acknowledged, per stream, and the checks of
// the durability and corruption contracts after every operation and every recovery (the
// rules, and exactly what they forgive, are in sim/README.md, "The oracle's rules").
//
// It trusts nothing the store says. What is durable comes from the DurabilityModel (the
// filesystem calls the store made), what was damaged from the FaultMap (each injected
// fault, mapped to records and bytes), and the chain and frame rules from
// sim/format_rules (its own reading of core/FORMAT.md). The store's reports, offsets and
// claims are only ever checked against those.
//
// Every check returns "" when the store behaved, or a sentence saying what it did wrong.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/store.h"
#include "sim/durability.h"
#include "sim/fault_map.h"
#include "sim/format_rules.h"
#include "sim/proof_rules.h"
#include "sim/swarm.h"
#include "simfs/sim_filesystem.h"

namespace cairn::sim {

// One record of one append attempt.
struct Attempt {
  std::uint64_t batch_id = 0;
  std::uint32_t index = 0;       // position in its batch
  std::uint32_t batch_size = 1;  // records in the batch, a trailing checkpoint included
  bool checkpoint = false;
  Bytes payload;                 // data records only
  bool removed = false;          // repair removed it: reads of it fail with not_found
  // Survived a crash but could not be read back, and more than one failed attempt may
  // have put it there: it holds one of these (never anything else).
  std::shared_ptr<const std::vector<Attempt>> alternatives;
  bool unknown() const { return alternatives != nullptr; }
  // Whether a record read back at this offset may be this attempt.
  bool accepts(bool is_checkpoint, ByteView payload) const;
  // Whether the two may be records of one batch (an unknown one: any of its attempts').
  bool same_batch(const Attempt& other) const;
};

struct OracleStream {
  std::vector<Attempt> acked;                           // by offset: what the store confirmed
  std::map<std::uint64_t, std::vector<Attempt>> maybe;  // attempts that may have landed, by offset
  std::vector<rules::Hash> chain;                       // h(o) as the oracle computed it
  std::vector<rules::Hash> leaf_data;  // the chain hashes the oracle's Merkle tree holds
  rules::SubtreeCache tree;            // that tree (sim/proof_rules.h)
  std::uint64_t next = 0;           // the store's next offset, as last observed
  std::uint64_t first = 0;          // first retained offset
  std::uint64_t durable = 0;        // durable by observation at the last crash or reopen
  bool purge_in_flight = false;
  std::uint64_t verified_below = 0;  // read back and matched at a recovery, no fault since
  std::vector<std::pair<std::uint64_t, std::uint64_t>> repair_planned;  // may be gone after a crash
  // The manifest was rebuilt: the gaps repair recorded below this offset went with it, so
  // the store now calls those offsets missing (damage) rather than removed.
  std::uint64_t gaps_forgotten_below = 0;
  // Records a recovery kept that were not durable when power failed and could not be read
  // back: their bytes may be anything (repair may remove them).
  std::set<std::uint64_t> unsound;
  // Retention removed every offset below it at some point (a rebuilt manifest may bring
  // some of those segments back).
  std::uint64_t purged_below = 0;
  std::uint64_t purge_target = 0;  // what the purges in flight remove below
  bool removed_at(std::uint64_t o) const { return o < acked.size() && acked[o].removed; }
  bool planned_at(std::uint64_t o) const;
};

class Oracle {
 public:
  // REQUIRES: every argument outlives the oracle.
  Oracle(const Swarm& swarm, DurabilityModel& model, FaultMap& faults, const fs::SimFileSystem& sim)
      : swarm_(swarm), model_(model), faults_(faults), sim_(sim) {}

  // --- the workload, as the store answered it
  // `since`: FaultMap::seq() before the call (faults during it stay on the new records).
  void append_ok(std::uint64_t stream, const std::vector<Bytes>& batch, const AppendResult& r, std::uint64_t since);
  // may_have_landed: the store went fail-stop or lost power inside the call, so the batch
  // is indeterminate (all or nothing); otherwise nothing of it may ever come back.
  void append_failed(std::uint64_t stream, const std::vector<Bytes>& batch, bool may_have_landed);
  void checkpoint_ok(std::uint64_t stream, std::uint64_t offset, std::uint64_t since);
  void checkpoint_failed(std::uint64_t stream, bool may_have_landed);

  // --- the durability contract, after a call returned
  // The policy held: `always` made the batch durable; `every` left fewer than N records
  // (or bytes) unsynced; the store's durable_offset claims no more than was observed.
  std::string after_append(Store& store, std::uint64_t stream, const AppendResult& r, const SyncPolicy& policy);
  // Pipelined appends: records below `end` of `stream` must be durable by observation
  // once `what` returned ok (a wait_durable for them, or the next pipelined append, which
  // waits for the sync before it), and durable_offset must claim no more than observed.
  std::string after_pipelined(Store& store, std::uint64_t stream, std::uint64_t end, const char* what);
  // A good sync() or close(): everything acknowledged is durable.
  std::string after_sync(Store& store);
  std::string check_claims(Store& store);

  // --- reads, verify, recovery
  std::string check_read(std::uint64_t stream, std::uint64_t from, const Result<std::vector<Record>>& r,
                         bool read_error_now);
  std::string check_verify(const Result<VerifyReport>& r, bool read_error_now);
  // The store is about to be reopened: after a power loss (`power_loss`) what the
  // filesystem made durable must survive, otherwise everything acknowledged must. Kept
  // until a recovery passes its checks (a crash inside recovery keeps the first).
  void crashing(bool power_loss);
  // Power failed inside recovery, or an open failed: whatever that open cut, its report
  // was lost with it.
  void recovery_interrupted() { recovery_interrupted_ = true; }
  // After a restart. `full` reads back every record and checks the files themselves;
  // `crashed`: power was lost (the durability model restarts from what survived).
  std::string check_recovery(Store& store, bool full, bool crashed);

  // A read-only open beside the live writer: it sees every stream the writer holds with
  // the same offsets (where no fault touched the stream), and its findings are explained.
  std::string check_inspection(Store& inspector, const std::vector<std::uint64_t>& blocked);
  // offset_for_time(t) returned `at` for the timestamp t of record `from`: at <= from, and
  // the record before `at` (its timestamp as the store wrote it) is older than t.
  std::string check_time_lookup(std::uint64_t stream, std::uint64_t t, std::uint64_t from, std::uint64_t at) const;

  // --- retention and repair
  struct SegmentView {
    std::uint64_t base = 0;
    std::uint64_t size_bytes = 0;
    std::optional<std::uint64_t> last_ts;  // read when needed; none when the oracle cannot parse it
    bool touched = false;                   // a fault touched the file: its size may not be the store's
  };
  // What a purge must do, worked out before it runs from the files (own rules): the
  // stream's segments, ascending, and how many of the oldest are eligible. `known` is false
  // when a fault touched a segment or a timestamp cannot be read.
  struct PurgePlan {
    std::vector<SegmentView> before;
    std::size_t eligible = 0;
    bool known = true;
  };
  PurgePlan plan_purge(std::uint64_t stream, const PurgeOptions& p, std::uint64_t now_us) const;
  // A purge is about to run; it removes the offsets below `target` (the plan's first kept).
  void purge_started(std::uint64_t stream, std::uint64_t target) {
    OracleStream& s = streams_[stream];
    s.purge_in_flight = true;
    s.purge_target = std::max(s.purge_target, target);
  }
  std::string purge_ok(std::uint64_t stream, const PurgeOptions& p, std::uint64_t now_us, const PurgePlan& plan,
                       const StreamStats& st);
  void repair_planned(std::uint64_t stream, const RepairReport& plan);
  std::string repaired(std::uint64_t stream, const RepairReport& done);

  // The spine: a root, an inclusion and a consistency proof of each stream whose chain
  // the oracle knows, against its own tree of it (after recoveries and purges; `when`
  // names the moment in the failure).
  std::string check_proofs(Store& store, const char* when);

  const std::map<std::uint64_t, OracleStream>& streams() const { return streams_; }
  std::uint64_t acknowledged_records() const;

 private:
  // Offsets of the stream below it must survive this recovery.
  std::uint64_t must_survive(std::uint64_t id, const OracleStream& s) const;
  // The segment files of a stream as the oracle reads them (sizes; timestamps not yet read).
  std::vector<SegmentView> segments(std::uint64_t stream) const;
  std::string check_stream_recovery(Store& store, std::uint64_t id, OracleStream& s, bool full);
  std::string check_findings(const RecoveryReport& rep);
  std::string apply_gaps(std::uint64_t id, OracleStream& s, const std::vector<std::pair<std::uint64_t, std::uint64_t>>& gaps);
  std::string check_losses(std::uint64_t id, const OracleStream& s, std::uint64_t next, const RecoveryReport& rep);
  // Records below `start` are s.acked's (as acknowledged), from it on tail's (as read back).
  std::string check_batches(std::uint64_t id, const OracleStream& s, std::uint64_t start,
                            const std::vector<Attempt>& tail, std::uint64_t durable);
  std::string check_files(std::uint64_t id, const OracleStream& s);
  std::string check_coverage(Store& store, std::uint64_t id, const OracleStream& s);
  std::string read_back(Store& store, std::uint64_t id, OracleStream& s, std::uint64_t start, std::uint64_t next,
                        std::vector<Attempt>& survived, bool& chain_known);
  std::string match_record(std::uint64_t id, OracleStream& s, const Record& rec, std::uint64_t durable,
                           bool& chain_known, const Attempt*& match);
  std::string read_error_allowed(std::uint64_t stream, const OracleStream& s, std::uint64_t from, const Error& e,
                                 bool read_error_now, const char* during) const;
  bool finding_explained(const Finding& f) const;
  bool proof_error_allowed(std::uint64_t id, const Error& e, std::size_t faults_before) const;
  bool touched_near(std::uint64_t stream, const OracleStream& s, std::uint64_t from, std::uint64_t to) const;
  // Maps the filesystem's faults logged so far (before judging anything).
  void absorb() { faults_.absorb(sim_.fault_log()); }
  // Wrong bytes at `offset` are the store's fault unless the record was tampered with and
  // no link after it remains to expose it.
  bool undetectable_tamper(std::uint64_t stream, const OracleStream& s, std::uint64_t offset) const;

  const Swarm& swarm_;
  DurabilityModel& model_;
  FaultMap& faults_;
  const fs::SimFileSystem& sim_;
  std::map<std::uint64_t, OracleStream> streams_;
  struct MustSurvive {
    std::uint64_t below = 0;  // offsets below it must come back
    bool power_loss = false;  // taken at a power loss (else: everything acknowledged)
  };
  std::map<std::uint64_t, MustSurvive> must_survive_;
  bool recovery_interrupted_ = false;
  std::uint64_t next_batch_id_ = 1;
  std::uint64_t proof_checks_ = 0;
  std::uint64_t max_batch_records_ = 1;  // the largest batch appended or attempted
  rules::Chain chain_;
  std::set<std::uint64_t> rule_damage_;  // offsets check_files found damaged (one stream)
};

}  // namespace cairn::sim
