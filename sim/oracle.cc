#include "sim/oracle.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/format.h"
#include "properties/properties.h"

namespace cairn::sim {

void Oracle::append_ok(std::uint64_t stream, const std::vector<Bytes>& batch, const AppendResult& r) {
  OracleStream& s = streams_[stream];
  const std::uint64_t id = next_batch_id_++;
  const std::uint32_t size = static_cast<std::uint32_t>(batch.size() + (r.checkpoint_offset ? 1 : 0));
  s.acked.resize(r.first_offset);
  for (std::uint32_t i = 0; i < batch.size(); ++i) s.acked.push_back(Attempt{id, i, size, false, batch[i], false});
  if (r.checkpoint_offset) s.acked.push_back(Attempt{id, size - 1, size, true, {}, false});
  s.next = s.acked.size();
  s.maybe.erase(s.maybe.lower_bound(r.first_offset), s.maybe.lower_bound(s.next));
}

void Oracle::append_failed(std::uint64_t stream, const std::vector<Bytes>& batch) {
  OracleStream& s = streams_[stream];
  const std::uint64_t id = next_batch_id_++;
  // The batch may have reached the disk, with or without a trailing checkpoint: its last
  // data record ends the batch in the first case, the checkpoint in the second.
  const std::uint32_t n = static_cast<std::uint32_t>(batch.size());
  for (std::uint32_t i = 0; i < n; ++i) s.maybe[s.next + i].push_back(Attempt{id, i, n, false, batch[i], false});
  s.maybe[s.next + n].push_back(Attempt{id, n, n + 1, true, {}, false});
}

void Oracle::checkpoint_ok(std::uint64_t stream, std::uint64_t offset) {
  OracleStream& s = streams_[stream];
  s.acked.resize(offset);
  s.acked.push_back(Attempt{next_batch_id_++, 0, 1, true, {}, false});
  s.next = s.acked.size();
  s.maybe.erase(s.maybe.lower_bound(offset), s.maybe.end());
}

void Oracle::checkpoint_failed(std::uint64_t stream) {
  OracleStream& s = streams_[stream];
  s.maybe[s.next].push_back(Attempt{next_batch_id_++, 0, 1, true, {}, false});
}

std::string Oracle::durable(std::uint64_t stream, std::uint64_t d) {
  OracleStream& s = streams_[stream];
  if (d < s.durable) {
    return fmt::format("stream {}: durable_offset went back from {} to {}", stream, s.durable, d);
  }
  if (d > s.next) {
    return fmt::format("stream {}: durable_offset {} is past the next offset {}", stream, d, s.next);
  }
  s.durable = d;
  return {};
}

std::string Oracle::purge_ok(std::uint64_t stream, const StreamStats& st) {
  OracleStream& s = streams_[stream];
  s.purge_in_flight = false;
  if (st.first_offset < s.first) {
    return fmt::format("stream {}: purge moved the first offset back from {} to {}", stream, s.first,
                       st.first_offset);
  }
  if (st.next_offset != s.next) {
    return fmt::format("stream {}: purge changed the next offset from {} to {}", stream, s.next,
                       st.next_offset);
  }
  s.first = st.first_offset;
  return {};
}

void Oracle::at_rest(std::uint64_t stream, bool index_file) {
  OracleStream& s = streams_[stream];
  (index_file ? s.at_rest_index : s.at_rest_log) = true;
  s.verified_below = 0;
}

void Oracle::tampered(std::uint64_t stream, std::uint64_t offset) {
  OracleStream& s = streams_[stream];
  s.at_rest_log = true;
  s.verified_below = 0;
  s.tampered.push_back(offset);
}

void Oracle::repair_planned(std::uint64_t stream, const RepairReport& plan) {
  OracleStream& s = streams_[stream];
  for (const auto& range : plan.lost_offsets) s.repair_planned.push_back(range);
}

std::string Oracle::repaired(std::uint64_t stream, const RepairReport& done) {
  OracleStream& s = streams_[stream];
  if (done.next_offset < s.next) {
    return fmt::format("stream {}: repair moved the next offset back from {} to {}", stream, s.next, done.next_offset);
  }
  for (const auto& [a, b] : done.lost_offsets) {
    // Only records injected damage could have touched may go (the stream had damage at rest).
    if (!s.at_rest_log) return fmt::format("stream {}: repair removed offsets {}..{} with no fault to explain it", stream, a, b - 1);
    if (s.acked.size() < b) s.acked.resize(static_cast<std::size_t>(b));
    for (std::uint64_t o = a; o < b; ++o) s.acked[o].removed = true;
  }
  if (s.acked.size() < done.next_offset) {
    const std::size_t from = s.acked.size();
    s.acked.resize(static_cast<std::size_t>(done.next_offset));
    for (std::size_t o = from; o < s.acked.size(); ++o) s.acked[o].removed = true;
  }
  // Offsets lost at the start of the stream move its first offset, as retention would.
  for (const auto& [a, b] : done.lost_offsets) {
    if (a <= s.first && b > s.first) s.first = b;
  }
  while (s.first < done.next_offset && s.removed_at(s.first)) ++s.first;  // earlier gaps now lead
  s.repair_planned.clear();
  s.next = done.next_offset;
  s.durable = done.next_offset;
  s.maybe.clear();
  s.chain.clear();
  s.verified_below = 0;
  return {};
}

bool Oracle::undetectable_tamper(const OracleStream& s, std::uint64_t offset, std::uint64_t next) {
  // No link vouches for a record whose successor is gone: the stream's last, or one
  // before offsets a repair removed.
  const bool last_link = offset + 1 == next || s.removed_at(offset + 1) || s.planned_at(offset + 1);
  return last_link && std::find(s.tampered.begin(), s.tampered.end(), offset) != s.tampered.end();
}

std::uint64_t Oracle::acknowledged_records() const {
  std::uint64_t n = 0;
  for (const auto& [id, s] : streams_) n += s.acked.size();
  return n;
}

std::string Oracle::error_allowed(const OracleStream& s, const Error& e, const char* during) const {
  if (e.code == Errc::corruption && s.at_rest_log) return {};
  if (e.code == Errc::io_error && swarm_.read_errors) return {};
  return fmt::format("{} failed with no injected fault to explain it: {}", during, e.to_string());
}

std::string Oracle::check_read(std::uint64_t stream, std::uint64_t from,
                               const Result<std::vector<Record>>& r) {
  OracleStream& s = streams_[stream];
  if (!r.ok() && r.error().code == Errc::not_found && (s.removed_at(from) || s.planned_at(from))) return {};
  if (!r.ok()) return error_allowed(s, r.error(), "a read");
  std::uint64_t at = from;
  std::uint64_t last_ts = 0;
  for (const Record& rec : *r) {
    if (rec.offset != at) {
      return fmt::format("stream {}: read from {} returned offset {} where {} belongs", stream, from,
                         rec.offset, at);
    }
    if (at >= s.acked.size()) {
      return fmt::format("stream {}: read returned offset {} past the acknowledged end {}", stream, at,
                         s.acked.size());
    }
    const Attempt& want = s.acked[at];
    if (want.removed) {
      return fmt::format("stream {}: read served offset {}, which repair removed", stream, at);
    }
    if (want.unknown) {
      ++at;
      continue;
    }
    const bool kind_ok = want.checkpoint == (rec.kind == RecordKind::checkpoint);
    if (!kind_ok || (!want.checkpoint && rec.payload != want.payload)) {
      if (kind_ok && undetectable_tamper(s, at, s.next)) {
        ++at;
        continue;
      }
      return fmt::format("stream {}: read served wrong bytes at offset {} ({} bytes, expected {})",
                         stream, at, rec.payload.size(), want.payload.size());
    }
    if (rec.timestamp_us < last_ts) {
      return fmt::format("stream {}: timestamps decrease at offset {}", stream, at);
    }
    last_ts = rec.timestamp_us;
    ++at;
  }
  return {};
}

std::string Oracle::check_verify(const Result<VerifyReport>& r) {
  if (!r.ok()) {
    if (r.error().code == Errc::io_error && swarm_.read_errors) return {};
    return "verify failed: " + r.error().to_string();
  }
  for (const Finding& f : r->findings) {
    const OracleStream& s = streams_[f.stream];
    if (!s.at_rest_log && !(s.at_rest_index && f.what.rfind("index sidecar", 0) == 0)) {
      return "verify reported damage with no injected fault to explain it: " + f.to_string();
    }
  }
  return {};
}

std::string Oracle::check_recovery(Store& store, bool full) {
  const RecoveryReport& rep = store.recovery_report();
  for (const Finding& f : rep.damage) {
    if (f.kind == FindingKind::manifest) {
      if (!manifest_fault_) return "the manifest was rebuilt with no fault to explain it: " + f.to_string();
      // Rebuilt from the segments: what only the manifest knew (recovery points) is gone,
      // so durable records hit at rest may now be cut as a torn tail.
      for (auto& [id, os] : streams_) os.at_rest_log = os.at_rest_log || os.durable > 0;
      manifest_fault_ = false;  // found and rebuilt
      continue;
    }
    if (!streams_[f.stream].at_rest_log) {
      return "recovery reported damage with no injected fault to explain it: " + f.to_string();
    }
    if (f.what.rfind("segment header is invalid", 0) == 0) streams_[f.stream].header_damaged = true;
  }
  for (const std::string& idx : rep.invalid_indexes) {
    auto id = format::parse_stream_dir_name(idx.substr(0, idx.find('/')));
    const OracleStream& s = streams_[id.value_or(0)];
    if (!s.at_rest_index && !s.at_rest_log) {
      return "an index sidecar was torn (it is replaced atomically) with no fault at rest: " + idx;
    }
  }
  for (std::uint64_t id : store.streams()) {
    if (!streams_.count(id)) streams_[id];  // created by an append that then failed
  }
  for (auto& [id, s] : streams_) {
    std::string failure = check_stream_recovery(store, id, s, full);
    if (!failure.empty()) return failure;
  }
  return {};
}

std::string Oracle::check_stream_recovery(Store& store, std::uint64_t id, OracleStream& s, bool full) {
  const std::uint64_t durable = s.durable;
  auto st = store.stats(id);
  if (!st.ok()) {
    if (durable > 0) return fmt::format("stream {} with {} durable records vanished", id, durable);
    OracleStream fresh;
    fresh.at_rest_log = s.at_rest_log;
    fresh.at_rest_index = s.at_rest_index;
    s = std::move(fresh);
    return {};
  }
  const std::uint64_t first = st->first_offset;
  const std::uint64_t next = st->next_offset;
  // A repair cut short may or may not have moved the first offset past what it planned.
  bool repair_moved_first = first > s.first;
  for (std::uint64_t o = s.first; o < first && repair_moved_first; ++o) {
    repair_moved_first = s.planned_at(o) || s.removed_at(o);
  }
  if (first < s.first || (!s.purge_in_flight && first != s.first && !repair_moved_first)) {
    return fmt::format("stream {}: first retained offset {} after recovery, expected {}", id, first, s.first);
  }
  if (next < durable) {
    // Durable records may be lost only to injected damage at rest, and with sync=always
    // only the last batch (later batches would prove the damaged range durable).
    bool allowed = s.at_rest_log;
    if (allowed && swarm_.sync == "always") {
      for (std::uint64_t o = next; o < durable; ++o) {
        allowed = allowed && s.acked[o].batch_id == s.acked[next].batch_id;
      }
    }
    if (!allowed) {
      return fmt::format("stream {}: durable records {}..{} lost (recovered up to {})", id, next,
                         durable - 1, next);
    }
    SOMETIMES(true, "durable records lost to injected damage were reported, not served");
  }

  // Read back from `start`: below it, records were matched at an earlier recovery and no
  // fault at rest has touched the stream since.
  const std::uint64_t start =
      full ? first : std::max(first, std::min({s.verified_below, durable, next}));
  std::vector<Attempt> survived;
  survived.reserve(static_cast<std::size_t>(next));
  std::copy(s.acked.begin(), s.acked.begin() + static_cast<long>(std::min<std::uint64_t>(start, s.acked.size())),
            std::back_inserter(survived));
  survived.resize(static_cast<std::size_t>(start));
  if (s.chain.size() > start) s.chain.resize(static_cast<std::size_t>(start));
  bool chain_known = s.chain.size() == start;
  const Attempt* last_match = nullptr;
  std::uint64_t at = start;
  int errors = 0;
  while (at < next) {
    auto r = store.read(id, at, 64 * 1024);
    if (!r.ok() && r.error().code == Errc::not_found && (s.removed_at(at) || s.planned_at(at))) {
      Attempt gone;
      gone.removed = true;  // repair removed it (or finished removing it at this recovery)
      survived.push_back(gone);
      chain_known = false;
      last_match = nullptr;
      ++at;
      continue;
    }
    if (!r.ok()) {
      std::string why = error_allowed(s, r.error(), "a read after recovery");
      if (!why.empty()) return fmt::format("stream {} offset {}: {}", id, at, why);
      if (++errors > static_cast<int>(next - first) + 10) {
        return fmt::format("stream {}: reads after recovery keep failing", id);
      }
      Attempt unreadable;
      if (at < durable && at < s.acked.size()) {
        unreadable = s.acked[at];  // durable: its content is known
      } else {
        unreadable.unknown = true;  // maybe written: the model cannot know what survived
      }
      survived.push_back(unreadable);
      chain_known = false;
      last_match = nullptr;  // an unreadable record says nothing about batch ends
      ++at;  // the damaged record cannot be checked; the next read restarts past it
      continue;
    }
    for (const Record& rec : *r) {
      const std::uint64_t o = rec.offset;
      if (o != at) return fmt::format("stream {}: recovered offsets jump from {} to {}", id, at, o);
      const bool is_cp = rec.kind == RecordKind::checkpoint;
      auto matches = [&](const Attempt& a) {
        return a.unknown || (a.checkpoint == is_cp && (is_cp || a.payload == rec.payload));
      };
      const Attempt* match = nullptr;
      if (o < s.acked.size() && matches(s.acked[o])) match = &s.acked[o];
      if (!match && o < s.acked.size() && undetectable_tamper(s, o, next)) match = &s.acked[o];
      if (o < s.acked.size() && s.acked[o].removed) {
        return fmt::format("stream {}: recovered record {} came back after repair removed it", id, o);
      }
      if (o < durable && !match) {
        return fmt::format("stream {}: durable record {} came back with wrong bytes", id, o);
      }
      if (!match && o >= durable) {
        auto it = s.maybe.find(o);
        if (it != s.maybe.end()) {
          for (const Attempt& a : it->second) {
            if (matches(a)) {
              match = &a;
              break;
            }
          }
        }
      }
      if (!match) return fmt::format("stream {}: recovered record {} was never written", id, o);
      if (is_cp) {
        auto cp = format::decode_checkpoint(rec.payload);
        if (!cp || cp->record_count != o) {
          return fmt::format("stream {}: checkpoint {} has a malformed payload", id, o);
        }
        const bool prev_known = chain_known && s.chain.size() == o;
        if (prev_known && !s.header_damaged && cp->chain_hash != (o == 0 ? kZeroHash : s.chain.back())) {
          return fmt::format("stream {}: checkpoint {} disagrees with the chain the oracle computed", id, o);
        }
      }
      if (chain_known && s.chain.size() == o) {
        const ChainHash& prev = o == 0 ? kZeroHash : s.chain.back();
        s.chain.push_back(hasher_.next(prev, o, rec.kind, rec.timestamp_us, rec.payload));
      } else {
        chain_known = false;
      }
      survived.push_back(*match);
      last_match = match->unknown ? nullptr : &survived.back();
      ++at;
    }
  }
  if (next > durable && last_match != nullptr && last_match->index + 1 != last_match->batch_size) {
    return fmt::format("stream {}: recovery kept part of a batch (record {} of {} at offset {})", id,
                       last_match->index + 1, last_match->batch_size, next - 1);
  }
  if (next > durable) SOMETIMES(true, "recovery kept records that were written but not yet durable");
  s.acked = std::move(survived);
  s.repair_planned.clear();
  s.maybe.clear();
  s.next = next;
  s.durable = next;  // recovery syncs what it keeps
  s.first = first;
  s.purge_in_flight = false;
  if (!chain_known) s.chain.clear();
  s.verified_below = errors == 0 ? next : 0;
  return {};
}

}  // namespace cairn::sim
