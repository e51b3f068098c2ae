// The oracle: the workload as acknowledged, the sync policies against what the filesystem
// was told, reads, verify, retention and repair. Recovery checks: oracle_recovery.cc.
#include "sim/oracle.h"

#include <algorithm>

#include <fmt/format.h>

#include "properties/properties.h"

namespace cairn::sim {

bool Attempt::accepts(bool is_checkpoint, ByteView bytes) const {
  if (alternatives) {
    return std::any_of(alternatives->begin(), alternatives->end(),
                       [&](const Attempt& a) { return a.accepts(is_checkpoint, bytes); });
  }
  return checkpoint == is_checkpoint && (checkpoint || std::equal(payload.begin(), payload.end(), bytes.begin(), bytes.end()));
}

bool Attempt::same_batch(const Attempt& other) const {
  if (alternatives) return std::any_of(alternatives->begin(), alternatives->end(), [&](const Attempt& a) { return a.same_batch(other); });
  if (other.alternatives) return other.same_batch(*this);
  return batch_id != 0 && batch_id == other.batch_id;
}

bool OracleStream::planned_at(std::uint64_t o) const {
  return std::any_of(repair_planned.begin(), repair_planned.end(),
                     [o](const auto& r) { return o >= r.first && o < r.second; });
}

void Oracle::append_ok(std::uint64_t stream, const std::vector<Bytes>& batch, const AppendResult& r, std::uint64_t since) {
  OracleStream& s = streams_[stream];
  const std::uint64_t id = next_batch_id_++;
  const std::uint32_t size = static_cast<std::uint32_t>(batch.size() + (r.checkpoint_offset ? 1 : 0));
  max_batch_records_ = std::max<std::uint64_t>(max_batch_records_, size);
  s.acked.resize(r.first_offset);
  for (std::uint32_t i = 0; i < batch.size(); ++i) s.acked.push_back(Attempt{id, i, size, false, batch[i], false, nullptr});
  if (r.checkpoint_offset) s.acked.push_back(Attempt{id, size - 1, size, true, {}, false, nullptr});
  for (std::uint64_t o = r.first_offset; o < s.acked.size(); ++o) faults_.forget(stream, o, since);  // new bytes there
  s.next = s.acked.size();
  s.maybe.erase(s.maybe.lower_bound(r.first_offset), s.maybe.lower_bound(s.next));
}

void Oracle::append_failed(std::uint64_t stream, const std::vector<Bytes>& batch, bool may_have_landed) {
  OracleStream& s = streams_[stream];
  const std::uint64_t id = next_batch_id_++;
  if (!may_have_landed) return;  // cut back and synced: it must never come back
  // The batch may have reached the disk, with or without a trailing checkpoint: its last
  // data record ends the batch in the first case, the checkpoint in the second.
  const std::uint32_t n = static_cast<std::uint32_t>(batch.size());
  max_batch_records_ = std::max<std::uint64_t>(max_batch_records_, n + 1);
  for (std::uint32_t i = 0; i < n; ++i) s.maybe[s.next + i].push_back(Attempt{id, i, n, false, batch[i], false, nullptr});
  s.maybe[s.next + n].push_back(Attempt{id, n, n + 1, true, {}, false, nullptr});
}

void Oracle::checkpoint_ok(std::uint64_t stream, std::uint64_t offset, std::uint64_t since) {
  OracleStream& s = streams_[stream];
  s.acked.resize(offset);
  s.acked.push_back(Attempt{next_batch_id_++, 0, 1, true, {}, false, nullptr});
  faults_.forget(stream, offset, since);
  s.next = s.acked.size();
  s.maybe.erase(s.maybe.lower_bound(offset), s.maybe.end());
}

void Oracle::checkpoint_failed(std::uint64_t stream, bool may_have_landed) {
  OracleStream& s = streams_[stream];
  const std::uint64_t id = next_batch_id_++;
  if (may_have_landed) s.maybe[s.next].push_back(Attempt{id, 0, 1, true, {}, false, nullptr});
}

std::string Oracle::after_append(Store& store, std::uint64_t stream, const AppendResult& r, const SyncPolicy& policy) {
  const OracleStream& s = streams_[stream];
  const std::uint64_t observed = model_.durable_prefix(stream);
  const std::uint64_t end = (r.checkpoint_offset ? *r.checkpoint_offset : r.last_offset) + 1;
  if (policy.mode == SyncMode::always) {
    if (observed < end) {
      return fmt::format("stream {}: sync=always, but append {}..{} returned before its records were durable (the "
                         "filesystem saw them durable up to {})",
                         stream, r.first_offset, end - 1, observed);
    }
    const std::uint64_t claimed = store.durable_offset(stream).value_or(0);
    if (claimed < end) {
      return fmt::format("stream {}: sync=always, but durable_offset is {} after append {}..{}", stream, claimed,
                         r.first_offset, end - 1);
    }
  } else if (policy.mode == SyncMode::every && policy.every_records > 0 && s.next - observed >= policy.every_records) {
    return fmt::format("stream {}: sync=every:{}, but {} records ({}..{}) were not durable when append returned", stream,
                       policy.every_records, s.next - observed, observed, s.next - 1);
  } else if (policy.mode == SyncMode::every && policy.every_bytes > 0 &&
             model_.frame_bytes(stream, observed, s.next) >= policy.every_bytes) {
    return fmt::format("stream {}: sync=every:{}b, but {} bytes (records {}..{}) were not durable when append returned",
                       stream, policy.every_bytes, model_.frame_bytes(stream, observed, s.next), observed, s.next - 1);
  }
  return check_claims(store);
}

std::string Oracle::after_pipelined(Store& store, std::uint64_t stream, std::uint64_t end, const char* what) {
  const std::uint64_t observed = model_.durable_prefix(stream);
  if (observed < end) {
    return fmt::format("stream {}: {} returned, but records below {} were not durable (the filesystem saw them "
                       "durable up to {})",
                       stream, what, end, observed);
  }
  const std::uint64_t claimed = store.durable_offset(stream).value_or(0);
  if (claimed < end) return fmt::format("stream {}: durable_offset is {} after {} returned for records below {}", stream, claimed, what, end);
  return check_claims(store);
}

std::string Oracle::after_sync(Store& store) {
  for (auto& [id, s] : streams_) {
    const std::uint64_t observed = model_.durable_prefix(id);
    if (observed < s.next) {
      return fmt::format("stream {}: sync() returned, but records {}..{} were not durable by the filesystem's "
                         "account",
                         id, observed, s.next - 1);
    }
    const std::uint64_t claimed = store.durable_offset(id).value_or(s.next);
    if (claimed < s.next) return fmt::format("stream {}: durable_offset is {} after a good sync() of {}", id, claimed, s.next);
  }
  return check_claims(store);
}

std::string Oracle::check_claims(Store& store) {
  for (std::uint64_t id : store.streams()) {
    auto claimed = store.durable_offset(id);
    if (!claimed.ok()) continue;
    const std::uint64_t observed = model_.durable_prefix(id);
    if (*claimed > observed) {
      return fmt::format("stream {}: durable_offset claims {}, but the filesystem saw records durable only up to {}",
                         id, *claimed, observed);
    }
  }
  return {};
}

std::uint64_t Oracle::acknowledged_records() const {
  std::uint64_t n = 0;
  for (const auto& [id, s] : streams_) n += s.acked.size();
  return n;
}

bool Oracle::undetectable_tamper(std::uint64_t stream, const OracleStream& s, std::uint64_t offset) const {
  const Touch* t = faults_.touched(stream, offset);
  if (t == nullptr || t->how != "tamper") return false;
  if (offset + 1 == s.next || s.removed_at(offset + 1) || s.planned_at(offset + 1)) return true;
  // The next record's frame damaged too (not tampered: a tampered frame still links):
  // recovery cuts it or reports it, and nothing is left to expose this one (seed 18077).
  const Touch* next = faults_.touched(stream, offset + 1);
  return next != nullptr && next->how != "tamper";
}

bool Oracle::finding_explained(const Finding& f) const {
  if (f.kind == FindingKind::manifest) return faults_.manifest_touched();
  // A rebuilt manifest has lost the gaps repair recorded: those offsets are "missing".
  const auto it = streams_.find(f.stream);
  if (it != streams_.end() && (faults_.manifest_touched() || f.offset < it->second.gaps_forgotten_below)) {
    bool all_removed = true;
    for (std::uint64_t o = f.offset; o < std::max(f.end_offset, f.offset + 1) && all_removed; ++o) {
      all_removed = it->second.removed_at(o) || it->second.planned_at(o) || o < it->second.purged_below;
    }
    if (all_removed) return true;
    // ... and the record after a removed range no longer links to the one before it.
    if (f.offset > 0 && f.offset < it->second.gaps_forgotten_below && it->second.removed_at(f.offset - 1)) return true;
  }
  if (f.kind == FindingKind::index) {  // the sidecar, or the log it describes (its extent, its last hash)
    const std::string log = f.segment.size() > 4 ? f.segment.substr(0, f.segment.size() - 4) + ".log" : f.segment;
    return faults_.file_touched(f.stream, f.segment) || faults_.file_or_records_touched(f.stream, log);
  }
  // After a rebuilt manifest a repair's piece may overlap the segment it came from (the
  // cut that went with the manifest): it is reported, then left unlisted (RECOVERY.md I9).
  const bool leftover = f.what.find("overlaps offsets") != std::string::npos ||
                        f.what.find("not in the manifest") != std::string::npos;
  if (leftover && it != streams_.end() && it->second.gaps_forgotten_below > 0) return true;
  // A failed fsync of the stream's directory may have undone a set-aside, or lost a
  // segment's entry, for good (its records were not durable then: the loss is judged by
  // the durability model).
  const bool entry_lost = f.what.find("not in the manifest") != std::string::npos ||
                          f.what.find("missing") != std::string::npos;
  if (entry_lost && faults_.dir_entries_lost(f.stream)) return true;
  return faults_.file_touched(f.stream, f.segment) ||
         (it != streams_.end() && touched_near(f.stream, it->second, f.offset, std::max(f.end_offset, f.offset + 1)));
}

// A fault touched a record of [from, to), the record just before or after it (a changed
// record shows at the next link), or another record of the batch of one of them (a
// batch with a damaged record is damaged whole).
bool Oracle::touched_near(std::uint64_t stream, const OracleStream& s, std::uint64_t from, std::uint64_t to) const {
  if (faults_.any_touched(stream, from > 0 ? from - 1 : 0, to + 1)) return true;
  for (std::uint64_t t : faults_.touched_offsets(stream)) {
    if (t >= s.acked.size()) continue;
    for (std::uint64_t o = from; o < to && o < s.acked.size(); ++o) {
      if (s.acked[o].same_batch(s.acked[t])) return true;
    }
  }
  return false;
}

std::string Oracle::read_error_allowed(std::uint64_t stream, const OracleStream& s, std::uint64_t from, const Error& e,
                                       bool read_error_now, const char* during) const {
  if (e.code == Errc::not_found && (s.removed_at(from) || s.planned_at(from))) return {};
  if (e.code == Errc::io_error && (read_error_now || faults_.unreadable(stream))) return {};
  if (e.code == Errc::corruption && e.offset) {
    Finding f{stream, e.segment, e.byte_pos.value_or(0), *e.offset, *e.offset + 1, e.message};
    if (finding_explained(f)) return {};
  }
  return fmt::format("{} failed with no injected fault to explain it: {}", during, e.to_string());
}

std::string Oracle::check_read(std::uint64_t stream, std::uint64_t from, const Result<std::vector<Record>>& r,
                               bool read_error_now) {
  absorb();
  OracleStream& s = streams_[stream];
  if (!r.ok()) return read_error_allowed(stream, s, from, r.error(), read_error_now, "a read");
  std::uint64_t at = from;
  std::uint64_t last_ts = 0;
  for (const Record& rec : *r) {
    if (rec.offset != at) {
      return fmt::format("stream {}: read from {} returned offset {} where {} belongs", stream, from, rec.offset, at);
    }
    if (at >= s.acked.size()) {
      return fmt::format("stream {}: read returned offset {} past the acknowledged end {}", stream, at, s.acked.size());
    }
    const Attempt& want = s.acked[at];
    if (want.removed) return fmt::format("stream {}: read served offset {}, which repair removed", stream, at);
    const bool is_cp = rec.kind == RecordKind::checkpoint;
    if (!want.accepts(is_cp, rec.payload) && !(want.checkpoint == is_cp && undetectable_tamper(stream, s, at))) {
      return fmt::format("stream {}: read served wrong bytes at offset {} ({} bytes, expected {})", stream, at,
                         rec.payload.size(), want.payload.size());
    }
    if (rec.timestamp_us < last_ts) return fmt::format("stream {}: timestamps decrease at offset {}", stream, at);
    last_ts = rec.timestamp_us;
    ++at;
  }
  return {};
}

std::string Oracle::check_verify(const Result<VerifyReport>& r, bool read_error_now) {
  absorb();
  if (!r.ok()) {
    if (r.error().code == Errc::io_error && read_error_now) return {};
    if (r.error().code == Errc::io_error && faults_.any_unreadable()) return {};
    return "verify failed: " + r.error().to_string();
  }
  for (const Finding& f : r->findings) {
    if (!finding_explained(f)) return "verify reported damage with no injected fault to explain it: " + f.to_string();
  }
  return {};
}

std::string Oracle::check_inspection(Store& inspector, const std::vector<std::uint64_t>& blocked) {
  absorb();
  const RecoveryReport& rep = inspector.recovery_report();
  if (!rep.read_only || !rep.live_writer) return "a read-only open beside a live writer did not say a writer holds the store";
  std::string why = check_findings(rep);
  if (!why.empty()) return why;
  for (const auto& [id, s] : streams_) {
    if (s.next <= s.first || faults_.stream_touched(id) || std::count(blocked.begin(), blocked.end(), id) > 0) continue;
    auto st = inspector.stats(id);
    if (!st.ok()) return fmt::format("stream {} with offsets {}..{} is not seen", id, s.first, s.next - 1);
    if (st->next_offset != s.next || (!s.purge_in_flight && st->first_offset != s.first)) {
      return fmt::format("stream {}: sees offsets {}..{} where the writer holds {}..{}", id, st->first_offset,
                         st->next_offset, s.first, s.next);
    }
  }
  return {};
}

std::string Oracle::check_time_lookup(std::uint64_t stream, std::uint64_t t, std::uint64_t from, std::uint64_t at) const {
  if (at > from) return fmt::format("stream {}: offset_for_time({}) returned {}, past record {} of that time", stream, t, at, from);
  const Placement* before = at > 0 ? model_.placement(stream, at - 1) : nullptr;
  const auto it = streams_.find(stream);
  const bool held = it != streams_.end() && at > it->second.first && !it->second.removed_at(at - 1);
  if (before && held && before->timestamp_us >= t) {
    return fmt::format("stream {}: offset_for_time({}) returned {}, but record {} before it was written with timestamp {}",
                       stream, t, at, at - 1, before->timestamp_us);
  }
  return {};
}

void Oracle::repair_planned(std::uint64_t stream, const RepairReport& plan) {
  OracleStream& s = streams_[stream];
  for (const auto& range : plan.lost_offsets) s.repair_planned.push_back(range);
}

// Only what a fault touched may go, and the other records of its batch (a batch stays
// whole or goes), and what was never durable (or was removed before).
std::string Oracle::repaired(std::uint64_t stream, const RepairReport& done) {
  absorb();
  OracleStream& s = streams_[stream];
  if (done.next_offset < s.next) {
    return fmt::format("stream {}: repair moved the next offset back from {} to {}", stream, s.next, done.next_offset);
  }
  const std::vector<std::uint64_t> touched = faults_.touched_offsets(stream);
  auto batch_mate = [&](std::uint64_t o) {
    return o < s.acked.size() && std::any_of(touched.begin(), touched.end(), [&](std::uint64_t t) {
             return t < s.acked.size() && s.acked[t].same_batch(s.acked[o]);
           });
  };
  // A file a misdirected write or a header flip hit is touched as a whole: where its stale
  // bytes end is not known, so the records removed from it are forgiven.
  auto in_touched_file = [&](std::uint64_t o) {
    return std::any_of(done.removals.begin(), done.removals.end(), [&](const Removal& r) {
      return o >= r.first_offset && o < r.end_offset && faults_.file_touched(stream, r.segment);
    });
  };
  for (const auto& [a, b] : done.lost_offsets) {
    for (std::uint64_t o = a; o < b; ++o) {
      const bool never_durable = s.unsound.count(o) > 0 || o >= model_.durable_prefix(stream);
      const bool forgiven = s.removed_at(o) || faults_.touched(stream, o) || batch_mate(o) || never_durable ||
                            in_touched_file(o) || o < s.purged_below;
      if (!forgiven) {
        std::string faults;
        for (std::uint64_t t : touched) faults += " " + std::to_string(t);
        return fmt::format("stream {}: repair removed offset {}, which no fault touched (touched:{})", stream, o,
                           faults.empty() ? " none" : faults);
      }
    }
    if (s.acked.size() < b) s.acked.resize(static_cast<std::size_t>(b));
    for (std::uint64_t o = a; o < b; ++o) {
      s.acked[o].removed = true;
      faults_.forget(stream, o);
    }
    model_.skip(stream, a, b);
  }
  if (s.acked.size() < done.next_offset) {
    const std::size_t from = s.acked.size();
    s.acked.resize(static_cast<std::size_t>(done.next_offset));
    for (std::size_t o = from; o < s.acked.size(); ++o) s.acked[o].removed = true;
    model_.skip(stream, from, done.next_offset);
  }
  for (const auto& [a, b] : done.lost_offsets) {
    if (a <= s.first && b > s.first) s.first = b;  // lost at the start: the first offset moves, as retention's
  }
  while (s.first < done.next_offset && s.removed_at(s.first)) ++s.first;
  s.repair_planned.clear();
  s.next = s.durable = done.next_offset;
  s.maybe.clear();
  s.chain.clear();
  s.verified_below = 0;
  return {};
}

}  // namespace cairn::sim
