// The oracle after a restart: what recovery kept, against what was durable by the
// filesystem's account and what faults touched.
#include <algorithm>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/oracle.h"

namespace cairn::sim {
namespace {

constexpr std::uint64_t kReadBytes = 64 * 1024;

std::uint64_t le64(ByteView b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  return v;
}

// "stream-<id>/seg-<base>.idx (...)" -> stream id and file name.
bool parse_index_report(const std::string& text, std::uint64_t& stream, std::string& file) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  const auto id = rules::stream_of_dir(text.substr(0, slash));
  if (!id) return false;
  stream = *id;
  file = text.substr(slash + 1, 28);
  return true;
}

}  // namespace

void Oracle::crashing(bool power_loss) {
  for (auto& [id, s] : streams_) {
    auto it = must_survive_.find(id);
    if (it != must_survive_.end() && (it->second.power_loss || !power_loss)) continue;  // the first one holds
    // Acknowledged records the filesystem made durable; without a power loss, every
    // acknowledged record (the process still sees them all).
    const std::uint64_t below = power_loss ? std::min(model_.durable_prefix(id), s.next) : s.next;
    must_survive_[id] = MustSurvive{below, power_loss};
  }
}

std::uint64_t Oracle::must_survive(std::uint64_t id, const OracleStream& s) const {
  auto it = must_survive_.find(id);
  return it != must_survive_.end() ? it->second.below : s.durable;
}

std::string Oracle::check_findings(const RecoveryReport& rep) {
  for (const Finding& f : rep.damage) {
    if (!finding_explained(f)) return "recovery reported damage with no injected fault to explain it: " + f.to_string();
  }
  for (const std::string& idx : rep.invalid_indexes) {
    std::uint64_t stream = 0;
    std::string file;
    if (!parse_index_report(idx, stream, file) ||
        !(faults_.file_touched(stream, file) || faults_.file_or_records_touched(stream, file.substr(0, 24) + ".log"))) {
      return "an index sidecar was found torn or lying (it is replaced atomically) with no fault to explain it: " + idx;
    }
  }
  return {};
}

std::string Oracle::check_recovery(Store& store, bool full, bool crashed) {
  absorb();
  const RecoveryReport& rep = store.recovery_report();
  for (std::uint64_t id : store.streams()) streams_[id];  // created by an append that then failed
  // A rebuilt manifest forgets repair's gaps; an open whose report was lost may have
  // rebuilt one too.
  if (rep.manifest_rebuilt || recovery_interrupted_) {
    for (auto& [id, s] : streams_) s.gaps_forgotten_below = std::max(s.gaps_forgotten_below, s.acked.size());
  }
  std::string why = check_findings(rep);
  if (!why.empty()) return why;
  if (rep.manifest_rebuilt) faults_.manifest_rebuilt();
  for (auto& [id, s] : streams_) {
    why = check_stream_recovery(store, id, s, full);
    if (!why.empty()) return why;
    if (crashed) model_.rebase(id, s.next);
  }
  must_survive_.clear();
  recovery_interrupted_ = false;
  faults_.settle();
  return {};
}

// Durable records may be lost only from the batch of the first record a fault touched on
// (a batch is cut whole), and only as a torn tail inside the window the store reported as
// possibly acknowledged (RECOVERY.md A5); never silently.
std::string Oracle::check_losses(std::uint64_t id, const OracleStream& s, std::uint64_t next, const RecoveryReport& rep) {
  const std::uint64_t durable = must_survive(id, s);
  std::uint64_t cause = UINT64_MAX;  // the start of the first touched record's batch
  bool unseen = false;               // a misdirected write: the bytes never reached their place
  for (std::uint64_t t : faults_.touched_offsets(id)) {
    // The record just before the cut counts too: a misdirected write leaves stale bytes
    // where it was meant to land, and a reader cannot reach the frame after them.
    if (t + 1 < next || t >= durable) continue;
    cause = std::max(t, next);
    unseen = faults_.touched(id, t)->how.rfind("misdirected write", 0) == 0;
    while (cause > next && t < s.acked.size() && cause <= s.acked.size() && s.acked[cause - 1].same_batch(s.acked[t])) {
      --cause;
    }
    break;
  }
  for (std::uint64_t o = next; o < durable; ++o) {
    if (s.removed_at(o) || s.planned_at(o)) continue;
    const bool damaged_before = o >= cause;
    const bool reported = std::any_of(rep.torn_tails.begin(), rep.torn_tails.end(), [&](const TornTail& t) {
      return t.stream == id && o >= t.first_offset_dropped && o < t.first_offset_dropped + t.possibly_acknowledged;
    });
    if (!damaged_before || !(reported || recovery_interrupted_ || unseen)) {
      return fmt::format("stream {}: durable records {}..{} lost (recovered up to {}){}", id, next, durable - 1, next,
                         damaged_before ? ", not reported as possibly acknowledged" : "");
    }
  }
  if (next < durable) SOMETIMES(true, "durable records cut after damage were reported as possibly acknowledged");
  return {};
}

std::string Oracle::check_stream_recovery(Store& store, std::uint64_t id, OracleStream& s, bool full) {
  const std::uint64_t durable = must_survive(id, s);
  auto st = store.stats(id);
  if (!st.ok()) {
    if (durable > s.first) return fmt::format("stream {} with {} durable records vanished", id, durable - s.first);
    s = OracleStream{};
    return {};
  }
  const std::uint64_t first = st->first_offset;
  const std::uint64_t next = st->next_offset;
  bool repair_moved_first = first > s.first;
  for (std::uint64_t o = s.first; o < first && repair_moved_first; ++o) repair_moved_first = s.planned_at(o) || s.removed_at(o);
  // A rebuilt manifest cannot tell retention from loss: segments whose unlink never
  // became durable come back (RECOVERY.md M3).
  const bool rebuilt = store.recovery_report().manifest_rebuilt;
  if ((first < s.first && !rebuilt) || (!s.purge_in_flight && first > s.first && !repair_moved_first)) {
    return fmt::format("stream {}: first retained offset {} after recovery, expected {}", id, first, s.first);
  }
  // A repair that removed the first records anchored what follows afresh: the chain stops.
  if (repair_moved_first && s.chain.size() > s.first) s.chain.resize(static_cast<std::size_t>(s.first));
  // A rebuilt manifest forgets a repair's gaps: the offsets a repair was seen to remove
  // (or plan to) come back as missing, and the spine may hold zero leaves for them
  // (core/store.h merkle_root): the oracle's chain stops there, as for a gap it is told.
  if (rebuilt) {
    for (std::uint64_t o = s.first; o < s.chain.size(); ++o) {
      if (!s.planned_at(o) && !s.removed_at(o)) continue;
      s.chain.resize(static_cast<std::size_t>(o));
      REACHABLE("a rebuilt manifest forgot a repair's gap: the oracle's chain stops at it");
      break;
    }
  }
  std::string why = apply_gaps(id, s, st->gaps);
  if (why.empty()) why = check_losses(id, s, next, store.recovery_report());
  if (!why.empty()) return why;
  const std::uint64_t start = full ? first : std::max(first, std::min({s.verified_below, durable, next}));
  // What came back from `start` on (below it: as acknowledged).
  std::vector<Attempt> survived;
  if (s.chain.size() > start) s.chain.resize(static_cast<std::size_t>(start));
  bool chain_known = s.chain.size() == start;
  why = read_back(store, id, s, start, next, survived, chain_known);
  if (!why.empty()) return why;
  if (s.acked.size() < start) s.acked.resize(static_cast<std::size_t>(start));
  why = check_batches(id, s, start, survived, durable);
  if (!why.empty()) return why;
  if (full) {
    why = check_files(id, s);
    if (why.empty()) why = check_coverage(store, id, s);
    if (!why.empty()) return why;
  }
  for (std::uint64_t o : faults_.touched_offsets(id)) {
    if (o >= next) faults_.forget(id, o);  // cut away (a purged file's, once its unlink is durable)
  }
  if (next > durable) SOMETIMES(true, "recovery kept records that were written but not yet durable");
  s.acked.resize(static_cast<std::size_t>(start));
  s.acked.insert(s.acked.end(), std::make_move_iterator(survived.begin()), std::make_move_iterator(survived.end()));
  s.maybe.clear();
  s.repair_planned.clear();
  model_.retain_from(id, first);
  faults_.set_first(id, first);
  s.purged_below = std::max({s.purged_below, first, s.purge_in_flight ? s.purge_target : 0});
  s.next = s.durable = next;
  s.first = first;
  s.purge_in_flight = false;
  if (!chain_known) s.chain.clear();
  return {};
}

// A repair the oracle saw planned may have been completed by this open (its manifest
// commit came before a crash or a failure): its gaps are then the store's. A gap no
// repair planned is a loss.
std::string Oracle::apply_gaps(std::uint64_t id, OracleStream& s,
                               const std::vector<std::pair<std::uint64_t, std::uint64_t>>& gaps) {
  for (const auto& [a, b] : gaps) {
    for (std::uint64_t o = a; o < b; ++o) {
      if (s.removed_at(o)) continue;
      if (!s.planned_at(o)) {
        return fmt::format("stream {}: the store holds offsets {}..{} as removed by repair, but no repair removed {}",
                           id, a, b - 1, o);
      }
      if (s.acked.size() <= o) s.acked.resize(static_cast<std::size_t>(o + 1));
      s.acked[o].removed = true;
      faults_.forget(id, o);
      // Past a removed record the repair anchors what follows afresh: the oracle's chain stops.
      if (s.chain.size() > o) s.chain.resize(static_cast<std::size_t>(o));
    }
    model_.skip(id, a, b);
  }
  return {};
}

// Every record read back after recovery: the acknowledged bytes (or a failed attempt's,
// above the durable prefix), checkpoints consistent with the chain the oracle computes.
std::string Oracle::read_back(Store& store, std::uint64_t id, OracleStream& s, std::uint64_t start, std::uint64_t next,
                              std::vector<Attempt>& survived, bool& chain_known) {
  const std::uint64_t durable = must_survive(id, s);
  std::uint64_t errors = 0;
  int retries = 0;
  for (std::uint64_t at = start; at < next;) {
    const std::size_t faults_before = sim_.fault_log().size();
    auto r = store.read(id, at, kReadBytes);
    if (!r.ok()) {
      const bool read_error_now = sim_.fault_log().size() > faults_before;
      absorb();
      std::string why = read_error_allowed(id, s, at, r.error(), read_error_now, "a read after recovery");
      if (!why.empty()) return fmt::format("stream {} offset {}: {}", id, at, why);
      if (++errors > next - start + 40) return fmt::format("stream {}: reads after recovery keep failing", id);
      if (read_error_now && r.error().code == Errc::io_error && ++retries <= 3) continue;  // transient: again
      retries = 0;
      Attempt gone;
      if (r.error().code == Errc::not_found) {
        if (at < s.acked.size()) gone = s.acked[at];  // its batch, for check_batches
        gone.removed = true;
      } else if (at < s.acked.size()) {
        gone = s.acked[at];  // acknowledged: if it ever reads back, it holds these bytes
      } else if (s.maybe.count(at)) {
        gone.alternatives = std::make_shared<const std::vector<Attempt>>(s.maybe.at(at));
      } else {
        return fmt::format("stream {}: recovery holds offset {}, which was never written (and cannot be read)", id, at);
      }
      // Damaged (not merely unreadable for now) and never durable: its bytes may be anything.
      if (r.error().code == Errc::corruption && at >= durable) s.unsound.insert(at);
      survived.push_back(gone);
      chain_known = false;
      ++at;
      continue;
    }
    for (const Record& rec : *r) {
      if (rec.offset != at) return fmt::format("stream {}: recovered offsets jump from {} to {}", id, at, rec.offset);
      const Attempt* match = nullptr;
      std::string why = match_record(id, s, rec, durable, chain_known, match);
      if (!why.empty()) return why;
      survived.push_back(*match);
      retries = 0;
      ++at;
    }
  }
  s.verified_below = errors == 0 ? next : 0;
  return {};
}

std::string Oracle::match_record(std::uint64_t id, OracleStream& s, const Record& rec, std::uint64_t durable,
                                 bool& chain_known, const Attempt*& match) {
  const std::uint64_t o = rec.offset;
  const bool is_cp = rec.kind == RecordKind::checkpoint;
  auto matches = [&](const Attempt& a) { return a.accepts(is_cp, rec.payload); };
  if (o < s.acked.size() && s.acked[o].removed) {
    return fmt::format("stream {}: recovered record {} came back after repair removed it", id, o);
  }
  if (o < s.acked.size() && (matches(s.acked[o]) || undetectable_tamper(id, s, o))) match = &s.acked[o];
  if (o < durable && !match) return fmt::format("stream {}: durable record {} came back with wrong bytes", id, o);
  if (!match && s.maybe.count(o)) {
    for (const Attempt& a : s.maybe.at(o)) {
      if (matches(a)) match = &a;
    }
  }
  if (!match) return fmt::format("stream {}: recovered record {} was never written (or its append failed)", id, o);
  const bool prev_known = chain_known && s.chain.size() == o;
  const rules::Hash prev = o == 0 || !prev_known ? rules::Hash{} : s.chain.back();
  if (is_cp) {
    if (rec.payload.size() != 40 || le64(rec.payload, 32) != o) {
      return fmt::format("stream {}: checkpoint {} has a malformed payload", id, o);
    }
    if (prev_known && !std::equal(prev.begin(), prev.end(), rec.payload.begin())) {
      return fmt::format("stream {}: checkpoint {} disagrees with the chain the oracle computed", id, o);
    }
  }
  if (prev_known) {
    s.chain.push_back(chain_.next(prev, o, static_cast<std::uint8_t>(rec.kind), rec.timestamp_us, rec.payload));
  } else {
    chain_known = false;
  }
  return {};
}

// A batch is all there or not there: every batch with a record at or above the durable
// prefix came back whole, unless a fault touched or repair removed one of its records.
std::string Oracle::check_batches(std::uint64_t id, const OracleStream& s, std::uint64_t start,
                                  const std::vector<Attempt>& tail, std::uint64_t durable) {
  const std::vector<Attempt>& head = s.acked;
  struct Tally {
    std::uint32_t count = 0;  // records of the batch held
    std::uint32_t size = 0;   // records in the batch
    bool excused = false;
    std::uint64_t last = 0;   // offset of its last record held
  };
  std::map<std::uint64_t, Tally> seen;  // by batch id
  auto count_in = [&](const Attempt& a, std::uint64_t o) {
    if (a.batch_id == 0) return;
    Tally& t = seen[a.batch_id];
    t.size = a.batch_size;
    if (!a.removed) ++t.count;
    // Held damaged, never durable (a crash tore it next to damage at rest): the store
    // cannot tell where the batch ends, so the batch is excused.
    if (a.removed || faults_.touched(id, o) || s.unsound.count(o) > 0) t.excused = true;
    t.last = o;
  };
  // Only batches that reach the durable prefix are judged; none holds more records than
  // the largest batch ever appended, so none of them starts further below it.
  const std::uint64_t end = start + tail.size();
  for (std::uint64_t o = durable > max_batch_records_ ? durable - max_batch_records_ : 0; o < end; ++o) {
    const Attempt& a = o < start ? head[o] : tail[o - start];
    if (!a.unknown()) {
      count_in(a, o);
      continue;
    }
    // Held but unreadable: one of its attempts is there (each counted, content unknown).
    for (const Attempt& alt : *a.alternatives) count_in(alt, o);
  }
  for (const auto& [batch, t] : seen) {
    if (t.last < durable || t.excused || t.count == t.size) continue;
    return fmt::format("stream {}: recovery kept {} of the {} records of one batch (up to offset {})", id, t.count,
                       t.size, t.last);
  }
  return {};
}

}  // namespace cairn::sim
